package io.tokenbus.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tokenbus.events.Addresses;
import io.tokenbus.testing.Patience;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Admission of streams: per client address (SSE and bridge together), and the anonymous share that keeps sockets
 * without a token from taking the slots token holders need. Clients connect from distinct loopback addresses.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class StreamLimitsTest {
  private static final int PER_ADDRESS = 4;
  private static final int ANONYMOUS = 2;
  private static Fixture f;

  @BeforeAll
  static void start() {
    // A long register deadline: here anonymous sockets must stay anonymous for the whole test.
    f = Fixture.start(Fixture.fastWorker(), Fixture.gateway()
      .withConnections(GatewayConfig.Connections.defaults(20_000).withMaxStreamsPerAddress(PER_ADDRESS)
        .withMaxAnonymousSockets(ANONYMOUS).withDeadlines(60_000, 60_000, 10_000)));
  }

  @AfterAll
  static void stop() {
    f.close();
  }

  private static String events(JsonObject job) {
    return "/api/jobs/" + job.getString("jobId") + "/events?token=" + job.getString("streamToken");
  }

  /** Registers for the job and waits until the gateway has processed it (frames are handled in order). */
  private static void follow(SockJsClient c, JsonObject job) {
    c.register(Addresses.status(job.getString("jobId")), job.getString("streamToken"));
    assertAdmitted(c, job);
  }

  /** A socket the gateway kept answers a request; a refused one gets an err frame and is closed. */
  private static void assertAdmitted(SockJsClient c, JsonObject job) {
    String reply = c.request(Addresses.JOB_REPLAY, new JsonObject().put("jobId", job.getString("jobId"))
      .put("token", job.getString("streamToken")).put("afterSequence", 0));
    JsonObject frame = c.next();
    assertEquals("rec", frame.getString("type"), frame.encode());
    assertEquals(reply, frame.getString("address"));
  }

  private static void assertRefused(SockJsClient c, String messagePart) {
    JsonObject err = c.next();
    assertEquals("err", err.getString("type"), err.encode());
    assertEquals(429, err.getInteger("failureCode"));
    assertTrue(err.getString("message").startsWith("too_many_jobs: ") && err.getString("message").contains(messagePart), err.encode());
    assertEquals(SockJsClient.CLOSED, c.next());
  }

  private static void assertSseRefused(SseClient sse, String messagePart) {
    assertEquals(429, sse.status, sse.body);
    JsonObject body = new JsonObject(sse.body);
    assertEquals("too_many_jobs", body.getString("error"));
    assertTrue(body.getString("message").contains(messagePart), body.encode());
  }

  @Test
  @Order(1)
  void oneAddressHoldsAtMostItsCapOfSseStreamsAndSocketsTogetherAndGetsASlotBackWhenOneCloses() {
    JsonObject job = f.silentJob();
    String a = "127.0.0.11";
    List<AutoCloseable> open = new ArrayList<>();
    try {
      SseClient first = f.sseFrom(a, events(job));
      open.add(first);
      assertEquals(200, first.status, first.body);
      SseClient second = f.sseFrom(a, events(job));
      open.add(second);
      assertEquals(200, second.status, second.body);
      for (int i = 0; i < PER_ADDRESS - 2; i++) {
        SockJsClient c = f.sockJsFrom(a);
        open.add(c);
        follow(c, job);
      }
      try (SseClient over = f.sseFrom(a, events(job)); SockJsClient overSocket = f.sockJsFrom(a)) {
        assertSseRefused(over, "this client address has " + PER_ADDRESS + " streams open");
        assertRefused(overSocket, "this client address has " + PER_ADDRESS + " streams open");
      }
      try (SseClient other = f.sseFrom("127.0.0.12", events(job))) {
        assertEquals(200, other.status, "the cap is per address, not per node: " + other.body);
      }
      first.close();
      // The gateway learns of the close asynchronously: retry until the slot is back (or fail after Patience.SECONDS).
      long deadline = System.nanoTime() + Patience.MILLIS * 1_000_000;
      SseClient again;
      while ((again = f.sseFrom(a, events(job))).status == 429 && System.nanoTime() < deadline) {
        again.close();
      }
      open.add(again);
      assertEquals(200, again.status, again.body);
    } finally {
      open.forEach(c -> {
        try {
          c.close();
        } catch (Exception e) {
          throw new IllegalStateException(e);
        }
      });
    }
  }

  @Test
  @Order(2)
  void socketsWithoutATokenTakeAtMostTheirShareAndTokenHoldersStillGetIn() {
    JsonObject job = f.silentJob();
    try (SockJsClient anon1 = f.sockJsFrom("127.0.0.21"); SockJsClient anon2 = f.sockJsFrom("127.0.0.21")) {
      assertAdmitted(anon1, job); // job.replay carries a token but is not a registration: still anonymous
      assertAdmitted(anon2, job);
      try (SockJsClient anon3 = f.sockJsFrom("127.0.0.22")) {
        assertRefused(anon3, "sockets that follow no job yet");
      }
      try (SseClient sse = f.sseFrom("127.0.0.22", events(job))) {
        assertEquals(200, sse.status, "SSE streams carry their token and are not refused: " + sse.body);
      }
      follow(anon1, job); // now a token holder: its anonymous slot is free again
      try (SockJsClient next = f.sockJsFrom("127.0.0.22")) {
        assertAdmitted(next, job);
      }
    }
  }
}
