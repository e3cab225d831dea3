package io.tokenbus.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tokenbus.gateway.GatewayConfig;
import io.tokenbus.worker.WorkerConfig;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.By;

/**
 * The web UI in headless Chromium against a gateway with compression on (HTTP gzip, websocket permessage-deflate):
 * the browser negotiates both, and the answer still grows token by token; an {@code EventSource} on a gzip SSE stream
 * gets each event as it is produced. What the browser negotiated is read from its own network log (DevTools
 * performance log), not from the server. Waits poll the page; nothing sleeps.
 */
@RequiresBrowser
class CompressedWebUiTest extends BrowserTestBase {
  /** Eight tokens a second, 40 tokens: five seconds per answer, 125 ms between tokens. */
  private static final int TOKENS = 40;
  private static WebUiSystem system;

  @BeforeAll
  static void start() {
    system = WebUiSystem.start(vertx -> WorkerConfig.defaults().withDrainMs(0).withLocalGenerator(8, TOKENS),
      GatewayConfig.defaults().withPort(0).withCompression(new GatewayConfig.Compression(6, 6)));
  }

  @AfterAll
  static void stop() {
    if (system != null) {
      system.close();
      system = null;
    }
  }

  @Override
  protected int pagePort() {
    return system.port();
  }

  @Override
  protected boolean performanceLog() {
    return true;
  }

  @Test
  void theAnswerGrowsTokenByTokenOverAPermessageDeflateSocket() throws Exception {
    List<JsonObject> handshakes = network("Network.webSocketHandshakeResponseReceived");
    assertTrue(!handshakes.isEmpty(), "the page's SockJS client opened a websocket");
    String extensions = header(handshakes.get(handshakes.size() - 1).getJsonObject("response").getJsonObject("headers"),
      "sec-websocket-extensions");
    assertTrue(extensions != null && extensions.contains("permessage-deflate"), "Chromium negotiated: " + extensions);
    Predicate<JsonObject> page = p -> p.getJsonObject("response").getString("url").endsWith(":" + system.port() + "/");
    JsonObject pageResponse = network("Network.responseReceived").stream().filter(page).findFirst().orElseThrow();
    assertEquals("gzip", header(pageResponse.getJsonObject("response").getJsonObject("headers"), "content-encoding"),
      "the page itself came gzipped");

    String jobId = submit("Explain compression", "ask");
    By state = By.cssSelector("#timeline li[data-job='" + jobId + "'] .state");
    List<Integer> lengths = new ArrayList<>();
    waitFor(d -> {
      int len = answerText().length();
      if (lengths.isEmpty() || lengths.get(lengths.size() - 1) != len) {
        lengths.add(len);
      }
      return "completed".equals(d.findElement(state).getText());
    });
    assertTrue(lengths.size() >= 10, "the answer grew in many steps while the job ran: " + lengths);
    for (int i = 1; i < lengths.size(); i++) {
      assertTrue(lengths.get(i) > lengths.get(i - 1), "the text only grows: " + lengths);
    }
    assertEquals(normalize(system.storedText(jobId, token(jobId))), answerText());
  }

  @Test
  void anEventSourceReadsAGzipStreamEventByEvent() throws Exception {
    JsonObject job = system.submit(new JsonObject().put("prompt", "stream me gzipped"));
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
    waitFor(d -> Boolean.TRUE.equals(js("return window.__sse.done")));
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
