package io.tokenbus.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tokenbus.events.Addresses;
import io.tokenbus.worker.WorkerConfig;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Issue 7, item 7: a bridge client that stops reading (but keeps pinging) is closed and its followers released,
 * instead of the gateway holding its followers and buffering for it; other clients keep streaming. With one byte
 * budget per socket shared by its followers, this also failed on an intermediate version whose budget woke only the
 * last waiting follower (the others stayed parked for ever), and on one that let register frames arriving after the
 * close follow jobs nobody released.
 */
class SlowClientTest {
  private static Fixture f;

  @BeforeAll
  static void start() {
    WorkerConfig fast = WorkerConfig.defaults().withLocalGenerator(2000, 1_000_000); // jobs outlast the test: only a close frees followers
    f = Fixture.start(fast, Fixture.gateway());
  }

  @AfterAll
  static void stop() {
    f.close();
  }

  @Test
  void aSocketThatStopsReadingIsClosedAndOthersStream() throws Exception {
    // The SockJS websocket transport, as browsers use it: the session hands every frame to the websocket at once.
    SockJsClient stalled = f.sockJs();
    stalled.stopReading(); // it keeps pinging, so only the byte bound, not the ping timeout, can close it
    // The client has the SockJS open frame before the gateway's handler has counted the socket: await the count.
    assertEquals(1.0, f.awaitGauge("tokenbus_gateway_open_streams", 1.0), "the stalled socket is open");
    for (int i = 0; i < 32; i++) {
      JsonObject job = f.submit(new JsonObject().put("prompt", "flood " + i).put("priority", "background"));
      String id = job.getString("jobId");
      stalled.register(Addresses.chunk(id), job.getString("streamToken"));
    }
    // A reading client on the same gateway meanwhile.
    JsonObject other = f.submit("a reader");
    try (SseClient sse = f.sse("/api/jobs/" + other.getString("jobId") + "/events?token=" + other.getString("streamToken"), null)) {
      assertEquals(1.0, f.awaitGauge("tokenbus_gateway_followed_jobs", 1.0), "the stalled socket's 32 followers were released");
      assertEquals(1.0, f.gauge("tokenbus_gateway_open_streams"), "the stalled socket was closed; the reader's stream is open");
      SseClient.Event e = sse.next();
      while ("job:progress".equals(e.event())) {
        e = sse.next();
      }
      assertEquals("model:chunk", e.event(), "the reading client streams");
    }
    stalled.close();
  }
}
