package io.tokenbus.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.Promise;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;

/**
 * The web UI streams an answer as it is produced, in headless Chromium against the whole system in this JVM: the text
 * grows token by token and ends as the job's stored output, a research job shows its steps, cancel stops the stream,
 * fifty jobs share one socket, and a 20,000-token answer keeps the frame rate. Skipped without Chromium, unless
 * required (CI).
 */
@RequiresBrowser
class WebUiStreamingTest extends WebUiTestBase {
  @Test
  void textAppearsInManyStepsAndEndsAsTheJobsOutput() throws Exception {
    String jobId = submit("Explain token streaming", "ask");
    List<Integer> lengths = new ArrayList<>();
    waitFor(d -> {
      int len = answerText().length();
      if (lengths.isEmpty() || lengths.get(lengths.size() - 1) != len) {
        lengths.add(len);
      }
      if (lengths.size() == 4) {
        screenshot(d, "ui-mid-stream.png");
      }
      return "completed".equals(jobState(jobId));
    });
    assertTrue(lengths.size() >= 5, "the answer grew in several steps: " + lengths);
    for (int i = 1; i < lengths.size(); i++) {
      assertTrue(lengths.get(i) > lengths.get(i - 1), "the text only grows: " + lengths);
    }
    assertEquals(normalize(storedText(jobId)), answerText());
    assertTrue(Files.size(ARTIFACTS.resolve("ui-mid-stream.png")) > 0);
    Object groups = ((JavascriptExecutor) driver).executeScript("return JSON.stringify(window.__tokenbusPerf)");
    JsonArray perf = new JsonArray((String) groups);
    assertTrue(perf.size() >= 5, "arrival-to-paint was measured per 10 chunks: " + perf);
    Files.writeString(ARTIFACTS.resolve("ui-perf.json"), perf.encodePrettily());
    System.out.println("UI arrival-to-paint per 10 chunks: " + perf.encode());
  }

  @Test
  void cancelStopsTheStreamAndTheTimelineSaysCancelled() throws Exception {
    String jobId = submit("Cancel me", "ask");
    waitFor(d -> answerText().length() > 20);
    driver.findElement(By.cssSelector("#timeline li[data-job='" + jobId + "'] .cancel")).click();
    waitFor(d -> "cancelled".equals(jobState(jobId)));
    String stored = storedText(jobId);
    assertEquals(normalize(stored), answerText());
    assertTrue(stored.split(" ").length < 100, "stopped before the end");
  }

  /**
   * Also makes README's picture of the page: a research job mid-answer, saved to target/test-artifacts and, with
   * {@code -Dtokenbus.updateScreenshot=true}, over {@code docs/images/ui-research-mid-stream.png} (README says how).
   */
  @Test
  void researchViewShowsItsSteps() {
    String jobId = submit("How does streaming work?", "research");
    boolean[] shot = {false};
    waitFor(d -> {
      if (!shot[0] && d.findElements(By.cssSelector("#steps li[data-step='writing']")).size() == 1 && answerText().length() > 120) {
        shot[0] = true;
        saveScreenshot(d, "ui-research-mid-stream.png");
      }
      return d.findElements(By.cssSelector("#steps li[data-step]")).size() >= 3 && "completed".equals(jobState(jobId));
    });
    List<String> steps = driver.findElements(By.cssSelector("#steps li[data-step]")).stream()
      .map(e -> e.getAttribute("data-step")).toList();
    assertEquals(List.of("thinking", "searching", "writing"), steps);
    assertTrue(driver.findElement(By.cssSelector("#steps li[data-step='searching']")).getText().contains("Searching"));
  }

  @Test
  void fiftyConcurrentJobsOnOneSocketAllCompleteAndLeaveNoRegistrationBehind() {
    // A long-lived tab: many jobs at once on one socket; each finished job is unregistered (the gateway frees its
    // follower too), so the tab never runs into the per-socket limit however many jobs it has run.
    js("for (let i = 0; i < 50; i++) document.getElementById('submit').click()");
    waitFor(d -> d.findElements(By.cssSelector("#timeline li[data-job]")).size() == 50);
    waitFor(Duration.ofSeconds(60), d -> d.findElements(By.cssSelector("#timeline li[data-job]")).stream()
      .allMatch(li -> "completed".equals(li.findElement(By.className("state")).getText())));
    assertEquals("", driver.findElement(By.id("form-error")).getText());
    Object left = js("return Object.keys(window.__tokenbus.client.eb.handlers).filter((a) => a.startsWith('job.')).length");
    assertEquals(0L, left, "every finished job was unregistered");
    assertEquals(0L, js("return [...window.__tokenbus.client.jobs.values()].filter((j) => !j.done).length"));
  }

  @Test
  void aLongFastAnswerKeepsTheFrameRateAndShowsItsEndRightAway() throws Exception {
    // 20,000 tokens at 2,000 tokens/s from a provider over a real socket, followed by the page opened from a link.
    provider.fastGate = Promise.promise();
    JsonObject job = submitHttp(new JsonObject().put("prompt", FakeChatProvider.FAST_MARK + " write a lot").put("backend", "fake"));
    String jobId = job.getString("jobId");
    openLink(job);
    waitFor(d -> !d.findElements(By.cssSelector("#timeline li[data-job='" + jobId + "']")).isEmpty()
      && "streaming".equals(connState()));
    js("""
      const m = window.__long = { frames: 0, longTasks: 0, longTaskMs: 0, blockedMs: 0, start: null, end: null, shownAt: null };
      new PerformanceObserver((l) => l.getEntries().forEach((e) => { m.longTasks++; m.longTaskMs += e.duration; m.blockedMs += Math.max(0, e.duration - 50); }))
        .observe({ type: 'longtask' });
      const answer = document.getElementById('answer');
      const tick = () => {
        if (m.start == null && answer.textContent.length > 0) m.start = performance.now();
        if (m.start != null) m.frames++;
        if (answer.textContent.includes('END-OF-ANSWER')) { m.end = performance.now(); m.shownAt = Date.now(); return; }
        requestAnimationFrame(tick);
      };
      requestAnimationFrame(tick);
      """);
    provider.fastGate.complete();
    waitFor(Duration.ofSeconds(120), d -> js("return window.__long.shownAt") != null);
    JsonArray chunks = storedChunks(jobId, job.getString("streamToken"));
    long lastChunkAt = chunks.getJsonObject(chunks.size() - 1).getLong("timestamp");
    JsonObject m = new JsonObject((String) js("return JSON.stringify(window.__long)"));
    double seconds = (m.getDouble("end") - m.getDouble("start")) / 1000;
    JsonObject figures = new JsonObject().put("chunks", chunks.size()).put("fps", m.getInteger("frames") / seconds)
      .put("streamSeconds", seconds).put("longTasks", m.getInteger("longTasks")).put("longTaskMs", m.getDouble("longTaskMs"))
      .put("blockedMs", m.getDouble("blockedMs")).put("finalTextDelayMs", m.getLong("shownAt") - lastChunkAt);
    Files.writeString(ARTIFACTS.resolve("ui-long-answer.json"), figures.encodePrettily());
    System.out.println("UI long answer (20,000 tokens at 2,000 tokens/s): " + figures.encode());
    waitFor(d -> "completed".equals(jobState(jobId)));
    assertEquals(20_000, chunks.size());
    StringBuilder text = new StringBuilder();
    chunks.forEach(c -> text.append(((JsonObject) c).getString("chunk")));
    Object whole = ((JavascriptExecutor) driver).executeAsyncScript("""
      const [text, done] = arguments;
      import('/vendor/marked/marked.esm.js').then(({ marked }) => {
        const div = document.createElement('div');
        div.innerHTML = marked.parse(text); // the page's own renderer settings: one module instance
        done(div.textContent);
      });
      """, text.toString());
    assertEquals(normalize((String) whole), answerText(), "rendered block by block = rendered at once");
    assertTrue(figures.getLong("finalTextDelayMs") < 1000, "the end is shown within a second: " + figures);
    assertTrue(figures.getDouble("fps") >= 30, "the page keeps drawing: " + figures);
  }
}
