package io.tokenbus.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tokenbus.gateway.GatewayConfig;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.chrome.ChromeDriver;

/**
 * The web UI recovers exactly, in headless Chromium against the whole system in this JVM: after a reload (mid-stream,
 * mid-research, finished), with a second tab on the job, offline, while the gateway is away, and when an idle tab's
 * socket is closed at the register deadline. Skipped without Chromium, unless required (CI).
 */
@RequiresBrowser
class WebUiRecoveryTest extends WebUiTestBase {
  @Test
  void reloadMidStreamComesBackWithTheTextAndKeepsStreamingWithoutDuplicates() throws Exception {
    String jobId = submit("Reload me while streaming", "ask");
    waitFor(d -> answerText().length() > 40);
    driver.navigate().refresh();
    waitFor(d -> !d.findElements(By.cssSelector("#timeline li[data-job='" + jobId + "']")).isEmpty()
      && answerText().length() > 40);
    assertTrue(!"completed".equals(jobState(jobId)), "the reload happened mid-stream");
    waitFor(d -> "completed".equals(jobState(jobId)));
    assertEquals(normalize(storedText(jobId)), answerText(), "text so far + the rest, nothing twice");
  }

  @Test
  void statusBarShowsReconnectingWhileTheGatewayIsAwayAndRecovers() {
    system.stopGateway();
    try {
      waitFor(d -> "reconnecting".equals(connState()));
    } finally {
      system.startGateway();
    }
    waitFor(d -> List.of("connected", "streaming").contains(connState()));
  }

  @Test
  void twoTabsOnTheSameJobBothStreamIt() throws Exception {
    String jobId = submit("Two tabs", "ask");
    waitFor(d -> answerText().length() > 10);
    String first = driver.getWindowHandle();
    driver.switchTo().newWindow(org.openqa.selenium.WindowType.TAB);
    driver.get("http://127.0.0.1:" + port + "/?job=" + jobId + "&token=" + tokenFrom(first, jobId));
    waitFor(d -> !d.findElements(By.cssSelector("#timeline li[data-job='" + jobId + "']")).isEmpty()
      && "completed".equals(jobState(jobId)));
    String second = answerText();
    driver.switchTo().window(first);
    waitFor(d -> "completed".equals(jobState(jobId)));
    assertEquals(normalize(storedText(jobId)), answerText());
    assertEquals(answerText(), second);
  }

  private String tokenFrom(String window, String jobId) {
    String current = driver.getWindowHandle();
    driver.switchTo().window(window);
    String t = token(jobId);
    driver.switchTo().window(current);
    return t;
  }

  @Test
  void anIdleTabClosedAtTheRegisterDeadlineStaysReadyAndStillSubmitsAndStreams() throws Exception {
    // A gateway with a 1 s register deadline: the page's socket, which follows no job yet, is closed after 1 s.
    GatewayConfig quick = GatewayConfig.defaults().withPort(0).withSecret(gatewayConfig.tokenSecret())
      .withConnections(GatewayConfig.Connections.defaults(20_000).withDeadlines(1000, 60_000, 10_000));
    WebUiSystem.Deployed quickGateway = system.deployGateway(quick);
    try {
      driver.get("http://127.0.0.1:" + quickGateway.port() + "/");
      ((JavascriptExecutor) driver).executeScript("window.__states = []; window.__tokenbus.client.onState((s) => window.__states.push(s))");
      waitFor(d -> (Boolean) ((JavascriptExecutor) d).executeScript("return window.__tokenbus.client.eb === null"));
      String jobId = submit("After the dismissal", "ask");
      waitFor(d -> "completed".equals(jobState(jobId)));
      assertEquals(normalize(storedText(jobId)), answerText());
      Object states = ((JavascriptExecutor) driver).executeScript("return JSON.stringify(window.__states)");
      assertTrue(!new JsonArray((String) states).contains("reconnecting"), "the dismissal was quiet: " + states);
    } finally {
      system.undeploy(quickGateway.id());
    }
  }

  @Test
  void researchJobReloadedMidAnswerRebuildsItsStepsAndAnswerFromTheChunks() throws Exception {
    String jobId = submit("Reload a research job mid-answer", "research");
    waitFor(d -> answerText().length() > 20);
    driver.navigate().refresh();
    waitFor(d -> !d.findElements(By.cssSelector("#timeline li[data-job='" + jobId + "']")).isEmpty());
    waitFor(d -> "completed".equals(jobState(jobId)));
    JsonArray chunks = storedChunks(jobId, token(jobId));
    Map<String, StringBuilder> byStep = new java.util.LinkedHashMap<>();
    chunks.forEach(c -> byStep.computeIfAbsent(((JsonObject) c).getJsonObject("metadata").getString("step", "writing"),
      k -> new StringBuilder()).append(((JsonObject) c).getString("chunk")));
    assertEquals(List.of("thinking", "searching", "writing"), List.copyOf(byStep.keySet()));
    List<String> steps = driver.findElements(By.cssSelector("#steps li[data-step]")).stream().map(e -> e.getAttribute("data-step")).toList();
    assertEquals(List.of("thinking", "searching", "writing"), steps, "the steps panel came back");
    for (String step : List.of("thinking", "searching")) {
      String shown = normalize(driver.findElement(By.cssSelector("#steps li[data-step='" + step + "'] .text")).getText());
      assertEquals(normalize(byStep.get(step).toString()), shown, step);
    }
    assertEquals(normalize(byStep.get("writing").toString()), answerText(), "the answer is the writing step only");
  }

  @Test
  void finishedJobReloadedShowsTheSameChunksRateTimeToFirstTokenAndFullProgress() {
    String jobId = submit("Stats survive a reload", "ask");
    By row = By.cssSelector("#timeline li[data-job='" + jobId + "']");
    waitFor(d -> "completed".equals(jobState(jobId))
      && !d.findElement(row).findElement(By.className("ttft")).getText().equals("–"));
    String before = driver.findElement(row).findElement(By.className("stats")).getText();
    assertTrue(!before.startsWith("0 chunks"), before);
    assertEquals("100", driver.findElement(row).findElement(By.tagName("progress")).getAttribute("value"));
    driver.navigate().refresh();
    waitFor(d -> !d.findElements(row).isEmpty() && "completed".equals(jobState(jobId))
      && !d.findElement(row).findElement(By.className("ttft")).getText().equals("–"));
    assertEquals(before, driver.findElement(row).findElement(By.className("stats")).getText());
    assertEquals("100", driver.findElement(row).findElement(By.tagName("progress")).getAttribute("value"));
  }

  @Test
  void offlineIsShownWithinTwoSecondsAndTheStreamRecoversExactly() throws Exception {
    String jobId = submit("Go offline mid-answer", "ask");
    waitFor(d -> answerText().length() > 10);
    ChromeDriver chrome = (ChromeDriver) driver;
    chrome.executeCdpCommand("Network.enable", Map.of());
    chrome.executeCdpCommand("Network.emulateNetworkConditions", Map.of("offline", true, "latency", 0, "downloadThroughput", -1, "uploadThroughput", -1));
    try {
      waitFor(Duration.ofSeconds(2), d -> "offline".equals(connState()));
    } finally {
      chrome.executeCdpCommand("Network.emulateNetworkConditions", Map.of("offline", false, "latency", 0, "downloadThroughput", -1, "uploadThroughput", -1));
    }
    waitFor(d -> "completed".equals(jobState(jobId)));
    assertEquals(normalize(storedText(jobId)), answerText());
    assertTrue(List.of("connected", "streaming").contains(connState()), connState());
  }
}
