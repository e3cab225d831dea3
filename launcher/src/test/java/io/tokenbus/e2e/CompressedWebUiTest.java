package io.tokenbus.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tokenbus.checkpoint.CheckpointConfig;
import io.tokenbus.checkpoint.CheckpointVerticle;
import io.tokenbus.gateway.GatewayConfig;
import io.tokenbus.gateway.GatewayVerticle;
import io.tokenbus.runtime.Node;
import io.tokenbus.testing.TestRedis;
import io.tokenbus.worker.AgentWorkerVerticle;
import io.tokenbus.worker.WorkerConfig;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.logging.LogEntry;
import org.openqa.selenium.support.ui.Select;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The web UI in headless Chromium against a gateway with compression on (HTTP gzip, websocket permessage-deflate):
 * the browser negotiates both, and the answer still grows token by token; an {@code EventSource} on a gzip SSE stream
 * gets each event as it is produced. What the browser negotiated is read from its own network log (DevTools
 * performance log), not from the server. Waits poll the page; nothing sleeps.
 */
@RequiresBrowser
class CompressedWebUiTest {
  /** Eight tokens a second, 40 tokens: five seconds per answer, 125 ms between tokens. */
  private static final int TOKENS = 40;
  private static TestRedis redis;
  private static Node node;
  private static int port;
  private WebDriver driver;
  /** Every DevTools Network event read so far (reading the performance log drains it). */
  private final List<JsonObject> networkLog = new ArrayList<>();

  @BeforeAll
  static void start() {
    redis = TestRedis.start();
    node = Node.local();
    node.vertx().deployVerticle(new CheckpointVerticle(CheckpointConfig.defaults(redis.url()), node.registry())).await();
    node.vertx().deployVerticle(new AgentWorkerVerticle(WorkerConfig.defaults().withDrainMs(0).withLocalGenerator(8, TOKENS),
      node.registry())).await();
    GatewayConfig gateway = GatewayConfig.defaults().withPort(TestRedis.freePort())
      .withCompression(new GatewayConfig.Compression(6, 6));
    port = gateway.port();
    node.vertx().deployVerticle(new GatewayVerticle(gateway, node.registry())).await();
  }

  @AfterAll
  static void stop() {
    node.close().await();
    redis.close();
  }

  @BeforeEach
  void browser() throws Exception {
    driver = Chromium.start(true);
    driver.get("http://127.0.0.1:" + port + "/");
    waitFor(Duration.ofSeconds(15), d -> List.of("connected", "streaming").contains(d.findElement(By.id("conn-state")).getText()));
  }

  @AfterEach
  void closeBrowser() {
    if (driver != null) {
      driver.quit();
    }
  }

  private <T> T waitFor(Duration timeout, java.util.function.Function<WebDriver, T> condition) {
    return new WebDriverWait(driver, timeout, Duration.ofMillis(20)).until(condition::apply);
  }

  private Object js(String script, Object... args) {
    return ((JavascriptExecutor) driver).executeScript(script, args);
  }

  /** DevTools Network events seen so far with the given method, as {@code params} objects. */
  private List<JsonObject> network(String method) {
    for (LogEntry e : driver.manage().logs().get("performance").getAll()) {
      networkLog.add(new JsonObject(e.getMessage()).getJsonObject("message"));
    }
    return networkLog.stream().filter(m -> method.equals(m.getString("method"))).map(m -> m.getJsonObject("params")).toList();
  }

  private static String header(JsonObject headers, String name) {
    return headers.fieldNames().stream().filter(n -> n.equalsIgnoreCase(name)).findFirst().map(headers::getString).orElse(null);
  }

  private static String normalize(String s) {
    return s.replaceAll("\\s+", " ").trim();
  }

  private static JsonArray storedChunks(String jobId, String token) throws Exception {
    HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port
      + "/api/jobs/" + jobId + "/chunks?after=0")).header("authorization", "Bearer " + token).build(), HttpResponse.BodyHandlers.ofString());
    return new JsonObject(r.body()).getJsonArray("chunks");
  }

  @Test
  void theAnswerGrowsTokenByTokenOverAPermessageDeflateSocket() throws Exception {
    List<JsonObject> handshakes = network("Network.webSocketHandshakeResponseReceived");
    assertTrue(!handshakes.isEmpty(), "the page's SockJS client opened a websocket");
    String extensions = header(handshakes.get(handshakes.size() - 1).getJsonObject("response").getJsonObject("headers"),
      "sec-websocket-extensions");
    assertTrue(extensions != null && extensions.contains("permessage-deflate"), "Chromium negotiated: " + extensions);
    Predicate<JsonObject> page = p -> p.getJsonObject("response").getString("url").endsWith(":" + port + "/");
    JsonObject pageResponse = network("Network.responseReceived").stream().filter(page).findFirst().orElseThrow();
    assertEquals("gzip", header(pageResponse.getJsonObject("response").getJsonObject("headers"), "content-encoding"),
      "the page itself came gzipped");

    WebElement prompt = driver.findElement(By.id("prompt"));
    prompt.sendKeys("Explain compression");
    new Select(driver.findElement(By.id("type"))).selectByValue("ask");
    driver.findElement(By.id("submit")).click();
    String jobId = waitFor(Duration.ofSeconds(10), d -> {
      List<WebElement> rows = d.findElements(By.cssSelector("#timeline li[data-job]"));
      return rows.isEmpty() ? null : rows.get(0).getAttribute("data-job");
    });
    By state = By.cssSelector("#timeline li[data-job='" + jobId + "'] .state");
    List<Integer> lengths = new ArrayList<>();
    waitFor(Duration.ofSeconds(30), d -> {
      int len = normalize(d.findElement(By.id("answer")).getText()).length();
      if (lengths.isEmpty() || lengths.get(lengths.size() - 1) != len) {
        lengths.add(len);
      }
      return "completed".equals(d.findElement(state).getText());
    });
    assertTrue(lengths.size() >= 10, "the answer grew in many steps while the job ran: " + lengths);
    for (int i = 1; i < lengths.size(); i++) {
      assertTrue(lengths.get(i) > lengths.get(i - 1), "the text only grows: " + lengths);
    }
    String token = new JsonObject((String) js("return sessionStorage.getItem('tokenbus.job.' + arguments[0])", jobId)).getString("token");
    StringBuilder stored = new StringBuilder();
    storedChunks(jobId, token).forEach(c -> stored.append(((JsonObject) c).getString("chunk")));
    assertEquals(normalize(stored.toString()), normalize(driver.findElement(By.id("answer")).getText()));
  }

  @Test
  void anEventSourceReadsAGzipStreamEventByEvent() throws Exception {
    HttpResponse<String> submitted = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port
      + "/api/jobs")).header("content-type", "application/json")
      .POST(HttpRequest.BodyPublishers.ofString(new JsonObject().put("prompt", "stream me gzipped").encode())).build(),
      HttpResponse.BodyHandlers.ofString());
    assertEquals(202, submitted.statusCode(), submitted.body());
    JsonObject job = new JsonObject(submitted.body());
    String path = "/api/jobs/" + job.getString("jobId") + "/events?token=" + job.getString("streamToken");
    js("""
      const seen = window.__sse = { chunks: [], done: false };
      const es = new EventSource(arguments[0]);
      es.addEventListener('model:chunk', (e) => {
        const c = JSON.parse(e.data);
        seen.chunks.push({ sequence: c.sequence, producedAt: c.timestamp, receivedAt: Date.now() });
      });
      es.addEventListener('job:completed', () => { seen.done = true; es.close(); });
      """, path);
    waitFor(Duration.ofSeconds(30), d -> Boolean.TRUE.equals(js("return window.__sse.done")));
    JsonArray chunks = new JsonArray((String) js("return JSON.stringify(window.__sse.chunks)"));
    assertEquals(TOKENS, chunks.size());
    int beforeNext = 0;
    for (int i = 0; i < chunks.size(); i++) {
      assertEquals(i + 1, chunks.getJsonObject(i).getLong("sequence"), "dense, in order");
      if (i + 1 < chunks.size() && chunks.getJsonObject(i).getLong("receivedAt") < chunks.getJsonObject(i + 1).getLong("producedAt")) {
        beforeNext++;
      }
    }
    // 125 ms between tokens: streamed per event, most are read before the next exists (a busy machine may delay a
    // few); held back by the compressor, none would be.
    assertTrue(beforeNext >= (TOKENS - 1) / 2, "events read before the next was produced: " + beforeNext + " " + chunks.encode());
    JsonObject events = network("Network.responseReceived").stream()
      .filter(p -> p.getJsonObject("response").getString("url").contains("/events?")).findFirst().orElseThrow();
    assertEquals("gzip", header(events.getJsonObject("response").getJsonObject("headers"), "content-encoding"),
      "Chromium asked for and got a gzip event stream");
  }
}
