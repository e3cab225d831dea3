package io.tokenbus.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tokenbus.events.Addresses;
import io.tokenbus.testing.Patience;
import io.vertx.core.Promise;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.NetSocket;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Deadlines on client connections, with real sockets: the request-head timeout, the HTTP idle timeout (which
 * heartbeating SSE streams and bridge sockets survive) and the register deadline of anonymous bridge sockets.
 */
class ConnectionTimeoutsTest {
  private static final long HEARTBEAT_MS = 200;
  private static final long IDLE_MS = 2000;
  private static final long HEADER_MS = 300;
  private static final long REGISTER_MS = 800;
  private static Fixture f;

  @BeforeAll
  static void start() {
    // Compression on: it changes Vert.x's pipeline so that raw bytes would count as activity (IdleTimeoutPlacement).
    f = Fixture.start(Fixture.fastWorker(), Fixture.gateway().withSseHeartbeatMs(HEARTBEAT_MS)
      .withCompression(new GatewayConfig.Compression(6, 6))
      .withConnections(GatewayConfig.Connections.defaults(400).withDeadlines(REGISTER_MS, IDLE_MS, HEADER_MS)));
  }

  @AfterAll
  static void stop() {
    f.close();
  }

  /** A raw TCP connection to the gateway: what it received and when the server closed it. */
  private static final class Raw {
    final NetSocket socket;
    final long openedNanos = System.nanoTime();
    final Promise<Long> closedAfterMs = Promise.promise();
    final StringBuilder received = new StringBuilder();

    Raw() {
      socket = f.clientVertx.createNetClient().connect(f.port, "127.0.0.1").await();
      socket.handler(b -> received.append(b.toString()));
      socket.closeHandler(v -> closedAfterMs.tryComplete((System.nanoTime() - openedNanos) / 1_000_000));
    }

    long awaitClosedMs() {
      try {
        return closedAfterMs.future().toCompletionStage().toCompletableFuture().get(Patience.SECONDS, TimeUnit.SECONDS);
      } catch (Exception e) {
        throw new AssertionError("the gateway did not close the connection within " + Patience.SECONDS + " s; received: " + received, e);
      }
    }
  }

  /** Closed by the header deadline: after it, and well before the idle timeout would have. */
  private static void assertClosedByTheHeaderDeadline(Raw raw) {
    long ms = raw.awaitClosedMs();
    assertTrue(ms >= HEADER_MS - 50 && ms < IDLE_MS - 500, "closed after " + ms + " ms");
    assertEquals("", raw.received.toString(), "no response to a request that never finished");
  }

  @Test
  void aConnectionThatSendsHalfARequestHeadIsClosedAfterTheHeaderTimeout() {
    Raw raw = new Raw();
    raw.socket.write("GET /api/ping HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Half: ");
    assertClosedByTheHeaderDeadline(raw);
  }

  @Test
  void aConnectionThatSendsNothingIsClosedAfterTheHeaderTimeout() {
    assertClosedByTheHeaderDeadline(new Raw());
  }

  @Test
  void aRequestHeadTrickledByteByByteIsClosedAfterTheHeaderTimeout() {
    Raw raw = new Raw();
    raw.socket.write("GET /api/ping HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ");
    long trickle = f.clientVertx.setPeriodic(50, id -> raw.socket.write(Buffer.buffer("a")));
    try {
      assertClosedByTheHeaderDeadline(raw);
    } finally {
      f.clientVertx.cancelTimer(trickle);
    }
  }

  @Test
  void aKeptAliveConnectionThatGoesIdleOrTricklesItsNextHeadIsClosedAfterTheIdleTimeout() {
    for (String next : new String[] {"", "GET /api/ping HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: "}) {
      Raw raw = new Raw();
      raw.socket.write("GET /api/ping HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n" + next);
      // Bytes of an unfinished head are no activity for the idle timeout (it counts complete HTTP messages).
      long trickle = next.isEmpty() ? -1 : f.clientVertx.setPeriodic(50, id -> raw.socket.write(Buffer.buffer("a")));
      try {
        long ms = raw.awaitClosedMs();
        assertTrue(raw.received.toString().startsWith("HTTP/1.1 204"), raw.received.toString());
        assertTrue(ms >= IDLE_MS - 100, "closed after " + ms + " ms");
      } finally {
        f.clientVertx.cancelTimer(trickle);
      }
    }
  }

  @Test
  void sseStreamsAndRegisteredSocketsOutliveTheIdleTimeoutAndTheRegisterDeadline() {
    JsonObject job = f.silentJob();
    String jobId = job.getString("jobId");
    String token = job.getString("streamToken");
    try (SseClient sse = f.sse("/api/jobs/" + jobId + "/events?token=" + token, null); SockJsClient socket = f.sockJs()) {
      assertEquals(200, sse.status, sse.body);
      socket.register(Addresses.status(jobId), token);
      // Heartbeats are the only traffic: wait until they have spanned well over the idle timeout (and the deadline).
      long t0 = System.nanoTime();
      int beats = 0;
      while (System.nanoTime() - t0 < TimeUnit.MILLISECONDS.toNanos(2 * IDLE_MS)) {
        assertTrue(sse.comment(5000).startsWith(": keep-alive"));
        beats++;
      }
      assertTrue(beats >= 5, beats + " heartbeats");
      var cancel = f.web.post("/api/jobs/" + jobId + "/cancel").bearerTokenAuthentication(token).send().await();
      assertEquals(202, cancel.statusCode());
      assertEquals("job:cancelled", sse.next().event(), "the SSE stream was still open");
      JsonObject status = socket.next();
      assertEquals(Addresses.status(jobId), status.getString("address"), "the bridge socket was still open: " + status.encode());
      assertEquals("job:cancelled", status.getJsonObject("body").getString("type"));
    }
  }

  @Test
  void aSocketThatNeverRegistersForAJobIsClosedAtTheRegisterDeadline() {
    JsonObject job = f.silentJob();
    long t0 = System.nanoTime();
    try (SockJsClient idle = f.sockJs(); SockJsClient badToken = f.sockJs()) {
      idle.send(new JsonObject().put("type", "ping")); // pinging keeps the ping check happy, not the deadline
      badToken.register(Addresses.status(job.getString("jobId")), "v1.1.forged");
      JsonObject refused = badToken.next();
      assertEquals(403, refused.getInteger("failureCode"), refused.encode());
      for (SockJsClient c : new SockJsClient[] {idle, badToken}) {
        JsonObject err = c.next();
        assertEquals("err", err.getString("type"), err.encode());
        assertEquals(401, err.getInteger("failureCode"));
        assertTrue(err.getString("message").startsWith("unauthorized: no job was registered"), err.encode());
        assertEquals(SockJsClient.CLOSED, c.next());
      }
      long ms = (System.nanoTime() - t0) / 1_000_000;
      assertTrue(ms >= REGISTER_MS - 100, "closed after " + ms + " ms");
    }
  }
}
