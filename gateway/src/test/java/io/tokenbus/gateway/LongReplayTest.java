package io.tokenbus.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.tokenbus.events.Addresses;
import io.tokenbus.events.ChunkEvent;
import io.tokenbus.events.JobRequest;
import io.tokenbus.events.JobState;
import io.tokenbus.events.StatusEvent;
import io.tokenbus.events.internal.AppendRequest;
import io.tokenbus.events.internal.JobAssignment;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.stream.LongStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Issue 7, item 10: a finished job longer than one page is replayed straight through, page after page as the client
 * reads, over SSE and over the bridge. The idle check is set to a minute here, so a stream that waited for it between
 * pages (as before: one page per idle period, 7 s for 10,000 chunks) would miss every deadline below. Chunk texts are
 * not ASCII: a replay copies each chunk's stored UTF-8 bytes to the client, and must copy them whole.
 */
class LongReplayTest {
  private static final long CHUNKS = 10_000;
  private static Fixture f;

  @BeforeAll
  static void start() {
    GatewayConfig d = Fixture.gateway();
    GatewayConfig slowPoll = d.withPort(0).withIdlePollMs(60_000);
    f = Fixture.start(Fixture.fastWorker(), slowPoll);
  }

  @AfterAll
  static void stop() {
    f.close();
  }

  /** Two-, three- and four-byte UTF-8 characters, JSON escapes, and the sequence. */
  private static String text(long sequence) {
    return "tökén 中文 😀 \"q\" " + sequence + " ";
  }

  private static String finishedJob() {
    String id = f.randomJobId();
    var eb = f.node.vertx().eventBus();
    eb.request(Addresses.CHECKPOINT_OPEN, new JobAssignment(id, JobRequest.ask("long"), 1)).await();
    for (long from = 1; from <= CHUNKS; from += 1000) {
      List<ChunkEvent> page = LongStream.range(from, from + 1000)
        .mapToObj(s -> new ChunkEvent(id, text(s), s, s, null)).toList();
      eb.request(Addresses.CHECKPOINT_APPEND, new AppendRequest(id, page,
        from + 1000 > CHUNKS ? new StatusEvent(JobState.COMPLETED, id, CHUNKS, null, null) : null)).await();
    }
    return id;
  }

  @Test
  void sseReplaysAFinishedJobOfManyPagesStraightThrough() {
    String id = finishedJob();
    try (SseClient sse = f.sse("/api/jobs/" + id + "/events?token=" + f.tokens.issue(id), null)) {
      List<SseClient.Event> events = SseStreamTest.readToEnd(sse);
      assertEquals("job:completed", events.get(events.size() - 1).event());
      SseStreamTest.assertDense(events, 1, CHUNKS);
      events.stream().filter(e -> ChunkEvent.TYPE.equals(e.event())).forEach(e ->
        assertEquals(text(e.data().getLong("sequence")), e.data().getString("chunk")));
    }
  }

  @Test
  void httpPagesReplayAFinishedJobWhole() {
    String id = finishedJob();
    String token = f.tokens.issue(id);
    long after = 0;
    JsonObject page;
    do {
      var r = f.web.get("/api/jobs/" + id + "/chunks?after=" + after).bearerTokenAuthentication(token).send().await();
      assertEquals(200, r.statusCode(), r.bodyAsString());
      page = r.bodyAsJsonObject();
      for (Object o : page.getJsonArray("chunks")) {
        JsonObject c = (JsonObject) o;
        assertEquals(++after, c.getLong("sequence"), "dense, in order");
        assertEquals(text(after), c.getString("chunk"));
      }
    } while (page.getBoolean("hasMore", false));
    assertEquals(CHUNKS, after);
    assertEquals("job:completed", page.getJsonObject("terminal").getString("type"));
  }

  @Test
  void aRegisteredBridgeSocketGetsTheRestOfALongHistoryAfterTheFirstPage() {
    String id = finishedJob();
    String token = f.tokens.issue(id);
    try (SockJsClient c = f.sockJs()) {
      c.register(Addresses.chunk(id), token);
      c.register(Addresses.status(id), token);
      String replyAddress = c.request(Addresses.JOB_REPLAY, new JsonObject().put("jobId", id).put("token", token).put("afterSequence", 0));
      JsonObject first = c.next();
      assertEquals(replyAddress, first.getString("address"), "nothing before the reply: live frames wait for it");
      JsonObject reply = first.getJsonObject("body");
      assertEquals(false, reply.getBoolean("hasMore", false), "the gateway sends the rest itself");
      long expect = 1;
      for (Object o : reply.getJsonArray("chunks")) {
        assertEquals(text(expect), ((JsonObject) o).getString("chunk"));
        assertEquals(expect++, ((JsonObject) o).getLong("sequence"));
      }
      while (true) {
        JsonObject frame = c.next();
        JsonObject body = frame.getJsonObject("body");
        if (Addresses.status(id).equals(frame.getString("address"))) {
          assertEquals("job:completed", body.getString("type"));
          break;
        }
        assertEquals(text(expect), body.getString("chunk"));
        assertEquals(expect++, body.getLong("sequence"), "in order, exactly once");
      }
      assertEquals(CHUNKS + 1, expect, "every chunk before the terminal event");
    }
  }
}
