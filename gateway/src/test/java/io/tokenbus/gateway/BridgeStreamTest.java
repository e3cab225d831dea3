package io.tokenbus.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tokenbus.events.Addresses;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The SockJS event-bus bridge: permitted addresses, token checks, live + replay exactly once, resume. */
class BridgeStreamTest {
  private static Fixture f;

  @BeforeAll
  static void start() {
    f = Fixture.start(Fixture.fastWorker(), Fixture.gateway());
  }

  @AfterAll
  static void stop() {
    f.close();
  }

  /** What one socket received for a job: chunks by sequence (duplicates counted), the replay answer, the terminal. */
  static final class Received {
    final Map<Long, Integer> counts = new TreeMap<>();
    final Map<Long, String> texts = new TreeMap<>();
    JsonObject reply;
    JsonObject status;
    boolean statusBeforeLastChunk;

    void chunk(JsonObject c) {
      counts.merge(c.getLong("sequence"), 1, Integer::sum);
      texts.put(c.getLong("sequence"), c.getString("chunk"));
      if (status != null) {
        statusBeforeLastChunk = true;
      }
    }

    String text() {
      return String.join("", texts.values());
    }
  }

  /** Reads frames until the replay answer and the terminal event have both arrived. */
  static Received collect(SockJsClient c, String jobId, String replyAddress) {
    Received r = new Received();
    while (r.reply == null || r.status == null) {
      JsonObject frame = c.next();
      assertEquals("rec", frame.getString("type"), frame.encode());
      String address = frame.getString("address");
      if (address.equals(replyAddress)) {
        r.reply = frame.getJsonObject("body");
        r.reply.getJsonArray("chunks").forEach(o -> r.chunk((JsonObject) o));
      } else if (address.equals(Addresses.chunk(jobId))) {
        r.chunk(frame.getJsonObject("body"));
      } else if (address.equals(Addresses.status(jobId))) {
        assertNull(r.status, "one terminal event");
        r.status = frame.getJsonObject("body");
      }
    }
    return r;
  }

  static void assertExactlyOnce(Received r, long from, long to) {
    List<Long> expected = new ArrayList<>();
    for (long s = from; s <= to; s++) {
      expected.add(s);
    }
    assertEquals(expected, new ArrayList<>(r.counts.keySet()), "dense sequences");
    r.counts.forEach((s, n) -> assertEquals(1, n, "chunk " + s + " delivered " + n + " times"));
  }

  private static void registerAll(SockJsClient c, String jobId, String token) {
    c.register(Addresses.chunk(jobId), token);
    c.register(Addresses.progress(jobId), token);
    c.register(Addresses.status(jobId), token);
  }

  @Test
  void submitsRegistersAndStreamsEveryChunkOnceWithTheExactText() {
    try (SockJsClient c = f.sockJs()) {
      String submitReply = c.request(Addresses.JOBS_SUBMIT, new JsonObject().put("prompt", "over the bridge").put("batch", 3));
      JsonObject reply = c.next();
      assertEquals(submitReply, reply.getString("address"), reply.encode());
      assertEquals("rec", reply.getString("type"), reply.encode());
      String jobId = reply.getJsonObject("body").getString("jobId");
      String token = reply.getJsonObject("body").getString("streamToken");
      registerAll(c, jobId, token);
      String replay = c.request(Addresses.JOB_REPLAY, new JsonObject().put("jobId", jobId).put("token", token).put("afterSequence", 0));
      Received r = collect(c, jobId, replay);
      assertEquals("job:completed", r.status.getString("type"));
      long last = r.status.getLong("lastSequence");
      assertExactlyOnce(r, 1, last);
      assertEquals(r.status.getString("result"), r.text());
      assertTrue(!r.statusBeforeLastChunk, "no chunk after the terminal event");
    }
  }

  @Test
  void resumesOnANewSocketAfterADisconnectExactlyOnce() {
    JsonObject job = f.submit("resume over the bridge");
    String jobId = job.getString("jobId");
    String token = job.getString("streamToken");
    Received first = new Received();
    try (SockJsClient c = f.sockJs()) {
      registerAll(c, jobId, token);
      String replay = c.request(Addresses.JOB_REPLAY, new JsonObject().put("jobId", jobId).put("token", token).put("afterSequence", 0));
      boolean replied = false;
      while (!replied || first.counts.size() < 5) {
        JsonObject frame = c.next();
        if (Addresses.chunk(jobId).equals(frame.getString("address"))) {
          first.chunk(frame.getJsonObject("body"));
        } else if (replay.equals(frame.getString("address"))) {
          replied = true;
          frame.getJsonObject("body").getJsonArray("chunks").forEach(o -> first.chunk((JsonObject) o));
        }
      }
    }
    long have = ((TreeMap<Long, Integer>) first.counts).lastKey();
    assertExactlyOnce(first, 1, have);
    try (SockJsClient c = f.sockJs()) {
      registerAll(c, jobId, token);
      String replay = c.request(Addresses.JOB_REPLAY, new JsonObject().put("jobId", jobId).put("token", token).put("afterSequence", have));
      Received rest = collect(c, jobId, replay);
      assertExactlyOnce(rest, have + 1, rest.status.getLong("lastSequence"));
      Received all = new Received();
      first.texts.forEach((s, t) -> all.chunk(new JsonObject().put("sequence", s).put("chunk", t)));
      rest.texts.forEach((s, t) -> all.chunk(new JsonObject().put("sequence", s).put("chunk", t)));
      assertEquals(rest.status.getString("result"), all.text());
    }
  }

  @Test
  void replayAfterCompletionGivesEverythingAndTheTerminalEvent() {
    JsonObject job = f.submit("finished before anyone listened");
    String jobId = job.getString("jobId");
    String token = job.getString("streamToken");
    try (SseClient sse = f.sse("/api/jobs/" + jobId + "/events?token=" + token, null)) {
      SseStreamTest.readToEnd(sse);
    }
    try (SockJsClient c = f.sockJs()) {
      registerAll(c, jobId, token);
      String replay = c.request(Addresses.JOB_REPLAY, new JsonObject().put("jobId", jobId).put("token", token).put("afterSequence", 0));
      Received r = collect(c, jobId, replay);
      assertEquals("completed", r.reply.getString("state"));
      assertEquals(30L, r.reply.getLong("lastSequence"));
      assertExactlyOnce(r, 1, 30);
    }
  }

  @Test
  void replayWithoutRegisteringAnswersFromTheStore() {
    JsonObject job = f.submit("just replay");
    String jobId = job.getString("jobId");
    try (SockJsClient c = f.sockJs()) {
      String replay = c.request(Addresses.JOB_REPLAY, new JsonObject().put("jobId", jobId).put("token", job.getString("streamToken")).put("afterSequence", 0));
      JsonObject reply = c.next();
      assertEquals(replay, reply.getString("address"), reply.encode());
      assertEquals("rec", reply.getString("type"), reply.encode());
      assertTrue(reply.getJsonObject("body").containsKey("lastSequence"));
      assertTrue(reply.getJsonObject("body").containsKey("state"));
    }
  }

  @Test
  void registeringWithoutOrWithAWrongTokenGetsAnErrorFrameAndNothingElse() {
    JsonObject job = f.submit("guarded");
    String jobId = job.getString("jobId");
    try (SockJsClient c = f.sockJs()) {
      c.register(Addresses.chunk(jobId), null);
      JsonObject err = c.next();
      assertEquals("err", err.getString("type"));
      assertEquals(Addresses.chunk(jobId), err.getString("address"));
      assertEquals(401, err.getInteger("failureCode"));
      c.register(Addresses.chunk(jobId), f.submit("another").getString("streamToken"));
      JsonObject err2 = c.next();
      assertEquals(403, err2.getInteger("failureCode"));
      assertNull(c.poll(1000), "no chunk is delivered to an unauthorised registration");
    }
  }

  @Test
  void onlyTheContractAddressesArePermitted() {
    JsonObject job = f.submit("permissions");
    String jobId = job.getString("jobId");
    String token = job.getString("streamToken");
    try (SockJsClient c = f.sockJs()) {
      for (String address : List.of(Addresses.WORKER_RUN, Addresses.CHECKPOINT_REPLAY, "job." + jobId + ".other", "anything")) {
        c.register(address, token);
        JsonObject err = c.next();
        assertEquals("err", err.getString("type"));
        assertEquals(address, err.getString("address"));
        assertEquals(403, err.getInteger("failureCode"));
      }
      String reply = c.request(Addresses.CHECKPOINT_REPLAY, new JsonObject().put("jobId", jobId));
      JsonObject err = c.next();
      assertEquals(reply, err.getString("address"));
      assertEquals(403, err.getInteger("failureCode"));
      c.send(new JsonObject().put("type", "publish").put("address", Addresses.JOBS_SUBMIT).put("body", new JsonObject().put("prompt", "x")));
      assertEquals("access_denied", c.next().getString("body"));
      c.send(new JsonObject().put("type", "send").put("address", Addresses.JOBS_SUBMIT).put("body", new JsonObject().put("prompt", "x")));
      assertEquals("access_denied", c.next().getString("body"), "fire-and-forget sends are not permitted");
    }
  }

  @Test
  void badFramesAndBadRequestsGetErrorsAndTheSocketLives() {
    try (SockJsClient c = f.sockJs()) {
      c.sendRaw("{nope");
      assertEquals("invalid_json", c.next().getString("body"));
      c.send(new JsonObject().put("address", "x"));
      assertEquals("missing_type", c.next().getString("body"));
      String r1 = c.request(Addresses.JOBS_SUBMIT, new JsonObject().put("prompt", ""));
      JsonObject e1 = c.next();
      assertEquals(r1, e1.getString("address"));
      assertEquals(400, e1.getInteger("failureCode"));
      assertTrue(e1.getString("message").startsWith("invalid_request: "));
      String r2 = c.request(Addresses.JOB_REPLAY, new JsonObject().put("jobId", f.randomJobId()).put("token", "v1.1.x").put("afterSequence", 0));
      JsonObject e2 = c.next();
      assertEquals(r2, e2.getString("address"));
      assertEquals(403, e2.getInteger("failureCode"));
      String unknown = f.randomJobId();
      String r3 = c.request(Addresses.JOB_REPLAY, new JsonObject().put("jobId", unknown).put("token", f.tokens.issue(unknown)).put("afterSequence", 0));
      assertEquals(404, c.next().getInteger("failureCode"));
      // still usable
      c.request(Addresses.JOBS_SUBMIT, new JsonObject().put("prompt", "still alive"));
      assertEquals("rec", c.next().getString("type"));
      assertTrue(r3 != null);
    }
  }

  @Test
  void aSocketMayFollowOnlySoManyJobs() {
    int max = f.gatewayConfig.maxSubscriptionsPerSocket();
    try (SockJsClient c = f.sockJs()) {
      for (int i = 0; i < max; i++) {
        String id = f.randomJobId();
        c.register(Addresses.status(id), f.tokens.issue(id));
      }
      String one = f.randomJobId();
      c.register(Addresses.status(one), f.tokens.issue(one));
      JsonObject err = c.next();
      assertEquals(Addresses.status(one), err.getString("address"));
      assertEquals(429, err.getInteger("failureCode"));
      assertTrue(err.getString("message").startsWith("too_many_jobs: "));
    }
  }

  /** Nothing is left behind: once every socket and stream is closed, the node follows no job and counts no stream. */
  @Test
  void closedSocketsAndStreamsReleaseTheirSubscriptions() {
    List<SockJsClient> sockets = new ArrayList<>();
    List<SseClient> streams = new ArrayList<>();
    // Followers of finished jobs are freed after their terminal event; these jobs never run, so only a close frees them.
    io.tokenbus.gateway.auth.StreamTokens tokens = new io.tokenbus.gateway.auth.StreamTokens(f.gatewayConfig.tokenSecret(),
      f.gatewayConfig.tokenTtl(), java.time.Clock.systemUTC());
    for (int i = 0; i < 5; i++) {
      String idle = io.tokenbus.events.JobIds.newId(new java.security.SecureRandom());
      SockJsClient c = f.sockJs();
      c.register(Addresses.chunk(idle), tokens.issue(idle));
      sockets.add(c);
      JsonObject job = f.submit("release " + i);
      streams.add(f.sse("/api/jobs/" + job.getString("jobId") + "/events?token=" + job.getString("streamToken"), null));
    }
    assertTrue(f.awaitGauge("tokenbus_gateway_followed_jobs", v -> v >= 5) >= 5);
    sockets.forEach(SockJsClient::close);
    streams.forEach(SseClient::close);
    assertEquals(0.0, f.awaitGauge("tokenbus_gateway_followed_jobs", 0));
    assertEquals(0.0, f.awaitGauge("tokenbus_gateway_open_streams", 0));
  }

  /**
   * Issue 7, item 3: a token holder firing 30,000 replays on one socket while a job streams. Beyond the requests it
   * may have waiting (16) it is answered 429 at once, the store is never flooded, and the job completes exactly.
   * Failed before: every replay went to the store's one queue, which filled and made the job's appends fail.
   */
  @Test
  void aFloodOfReplaysOnOneSocketIsBoundedAndTheStreamingJobCompletesExactly() {
    JsonObject job = f.submit("while someone floods");
    String id = job.getString("jobId");
    String token = job.getString("streamToken");
    try (SockJsClient reader = f.sockJs(); SockJsClient flooder = f.sockJs()) {
      reader.register(Addresses.chunk(id), token);
      reader.register(Addresses.status(id), token);
      String first = reader.request(Addresses.JOB_REPLAY, new JsonObject().put("jobId", id).put("token", token).put("afterSequence", 0));
      JsonObject body = new JsonObject().put("jobId", id).put("token", token).put("afterSequence", 0);
      for (int i = 0; i < 30_000; i++) {
        flooder.request(Addresses.JOB_REPLAY, body);
      }
      java.util.TreeMap<Long, Integer> got = new java.util.TreeMap<>();
      JsonObject terminal = null;
      while (terminal == null) {
        JsonObject frame = reader.next();
        JsonObject b = frame.getJsonObject("body");
        if (first.equals(frame.getString("address"))) {
          b.getJsonArray("chunks").forEach(c -> got.merge(((JsonObject) c).getLong("sequence"), 1, Integer::sum));
        } else if (Addresses.status(id).equals(frame.getString("address"))) {
          terminal = b;
        } else {
          got.merge(b.getLong("sequence"), 1, Integer::sum);
        }
      }
      assertEquals("job:completed", terminal.getString("type"));
      assertEquals(terminal.getLong("lastSequence"), (long) got.size());
      got.forEach((seq, n) -> assertEquals(1, n, "chunk " + seq + " once"));
      int refused = 0;
      for (JsonObject frame; (frame = flooder.poll(2000)) != null; ) {
        if ("err".equals(frame.getString("type")) && frame.getInteger("failureCode", 0) == 429) {
          refused++;
        }
      }
      assertTrue(refused > 20_000, "most of the flood was refused at the socket: " + refused);
    }
  }
}
