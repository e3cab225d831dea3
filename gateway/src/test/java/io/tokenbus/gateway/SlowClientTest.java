package io.tokenbus.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tokenbus.events.Addresses;
import io.tokenbus.worker.WorkerConfig;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Issue 7, item 7: a bridge client that stops reading is closed once the bytes waiting for it pass the per-socket
 * bound, instead of the gateway buffering for it without limit; a client that reads is not cut and other clients keep
 * streaming. Failed before: the SockJS session hands every frame to the websocket at once, so {@code writeQueueFull()}
 * never fired and the stalled socket stayed open while the gateway's memory grew.
 */
class SlowClientTest {
  private static Fixture f;

  @BeforeAll
  static void start() {
    WorkerConfig fast = WorkerConfig.defaults().withLocalGenerator(2000, 20_000);
    f = Fixture.start(fast, Fixture.gateway());
  }

  @AfterAll
  static void stop() {
    f.close();
  }

  private static double gauge(String name) {
    String body = f.web.get("/metrics").send().await().bodyAsString();
    return body.lines().filter(l -> l.startsWith(name + " ") || l.startsWith(name + "{"))
      .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1))).sum();
  }

  @Test
  void aSocketThatStopsReadingIsClosedAndOthersStream() throws Exception {
    // A raw websocket (the bridge's /eventbus/websocket) whose listener never asks for a message: the JDK client then
    // stops reading the socket, so the TCP window closes and the gateway's writes stop completing.
    CompletableFuture<Void> closed = new CompletableFuture<>();
    WebSocket stalled = HttpClient.newHttpClient().newWebSocketBuilder()
      .buildAsync(URI.create("ws://127.0.0.1:" + f.port + "/eventbus/websocket"), new WebSocket.Listener() {
        @Override
        public void onOpen(WebSocket ws) {
          // no request(n): nothing is read
        }

        @Override
        public CompletionStage<?> onClose(WebSocket ws, int code, String reason) {
          closed.complete(null);
          return null;
        }

        @Override
        public void onError(WebSocket ws, Throwable error) {
          closed.complete(null);
        }
      }).get(10, TimeUnit.SECONDS);
    for (int i = 0; i < 32; i++) {
      JsonObject job = f.submit(new JsonObject().put("prompt", "flood " + i).put("priority", "background"));
      String id = job.getString("jobId");
      stalled.sendText(new JsonObject().put("type", "register").put("address", Addresses.chunk(id))
        .put("headers", new JsonObject().put("token", job.getString("streamToken"))).encode(), true).get(5, TimeUnit.SECONDS);
    }
    assertTrue(gauge("tokenbus_gateway_open_streams") >= 1);
    // A reading client on the same gateway meanwhile.
    JsonObject other = f.submit("a reader");
    try (SseClient sse = f.sse("/api/jobs/" + other.getString("jobId") + "/events?token=" + other.getString("streamToken"), null)) {
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      while (gauge("tokenbus_gateway_followed_jobs") > 1 && System.nanoTime() < deadline) {
        Thread.onSpinWait(); // polling a metric: the stalled client cannot tell us anything
      }
      assertEquals(1.0, gauge("tokenbus_gateway_followed_jobs"), "the stalled socket's 32 followers were released");
      SseClient.Event e = sse.next(10_000);
      while ("job:progress".equals(e.event())) {
        e = sse.next(10_000);
      }
      assertEquals("model:chunk", e.event(), "the reading client streams");
    }
    stalled.abort();
  }
}
