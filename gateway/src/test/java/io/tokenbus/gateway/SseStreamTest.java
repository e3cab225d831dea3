package io.tokenbus.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** SSE: live streaming, resume with Last-Event-ID, replay after completion. */
class SseStreamTest {
  private static Fixture f;

  @BeforeAll
  static void start() {
    f = Fixture.start(Fixture.fastWorker(), Fixture.gateway());
  }

  @AfterAll
  static void stop() {
    f.close();
  }

  private static String events(JsonObject job) {
    return "/api/jobs/" + job.getString("jobId") + "/events?token=" + job.getString("streamToken");
  }

  /** Reads until the terminal event; returns chunks in arrival order and the terminal event last. */
  static List<SseClient.Event> readToEnd(SseClient sse) {
    List<SseClient.Event> out = new ArrayList<>();
    while (true) {
      SseClient.Event e = sse.next();
      if (e == SseClient.END) {
        throw new AssertionError("stream ended without a terminal event: " + out);
      }
      if (!"job:progress".equals(e.event())) {
        out.add(e);
      }
      if (e.event().startsWith("job:") && !"job:progress".equals(e.event())) {
        assertEquals(SseClient.END, sse.next(), "the stream closes after the terminal event");
        return out;
      }
    }
  }

  static String text(List<SseClient.Event> chunks) {
    StringBuilder sb = new StringBuilder();
    chunks.stream().filter(e -> "model:chunk".equals(e.event())).forEach(e -> sb.append(e.data().getString("chunk")));
    return sb.toString();
  }

  static void assertDense(List<SseClient.Event> events, long from, long to) {
    List<Long> seqs = events.stream().filter(e -> "model:chunk".equals(e.event())).map(e -> e.data().getLong("sequence")).toList();
    List<Long> expected = new ArrayList<>();
    for (long s = from; s <= to; s++) {
      expected.add(s);
    }
    assertEquals(expected, seqs);
    events.stream().filter(e -> "model:chunk".equals(e.event()))
      .forEach(e -> assertEquals(String.valueOf(e.data().getLong("sequence")), e.id(), "SSE id is the sequence"));
  }

  @Test
  void streamsEveryChunkLiveInOrderWithTheExactText() {
    JsonObject job = f.submit("stream over sse");
    try (SseClient sse = f.sse(events(job), null)) {
      assertEquals(200, sse.status);
      assertTrue(sse.contentType.startsWith("text/event-stream"));
      SseClient.Event first = sse.next();
      while ("job:progress".equals(first.event())) {
        first = sse.next();
      }
      assertEquals("model:chunk", first.event());
      // Spread over time: when the first chunk is here, the job is still producing.
      JsonObject state = f.web.get("/api/jobs/" + job.getString("jobId")).bearerTokenAuthentication(job.getString("streamToken"))
        .send().await().bodyAsJsonObject();
      assertEquals("running", state.getString("state"));
      List<SseClient.Event> all = new ArrayList<>(List.of(first));
      all.addAll(readToEnd(sse));
      SseClient.Event done = all.get(all.size() - 1);
      assertEquals("job:completed", done.event());
      assertDense(all, 1, 30);
      assertEquals(30L, done.data().getLong("lastSequence"));
      assertEquals(done.data().getString("result"), text(all));
      assertTrue(text(all).startsWith("On \"stream over sse\""));
      assertEquals("tokenbus-local", first.data().getJsonObject("metadata").getString("model"));
    }
  }

  @Test
  void resumesAfterADisconnectWithLastEventIdExactlyOnce() {
    JsonObject job = f.submit(new JsonObject().put("prompt", "resume sse").put("batch", 2));
    List<SseClient.Event> firstPart = new ArrayList<>();
    try (SseClient sse = f.sse(events(job), null)) {
      while (firstPart.size() < 4) {
        SseClient.Event e = sse.next();
        if ("model:chunk".equals(e.event())) {
          firstPart.add(e);
        }
      }
    }
    String lastId = firstPart.get(3).id();
    try (SseClient sse = f.sse(events(job), lastId)) {
      List<SseClient.Event> rest = readToEnd(sse);
      assertDense(rest, 5, rest.get(rest.size() - 1).data().getLong("lastSequence"));
      List<SseClient.Event> all = new ArrayList<>(firstPart);
      all.addAll(rest);
      assertDense(all, 1, 15);
      assertEquals(rest.get(rest.size() - 1).data().getString("result"), text(all));
      firstPart.forEach(e -> assertEquals(2, e.data().getJsonObject("metadata").getInteger("tokens")));
    }
  }

  @Test
  void replaysEverythingAfterCompletionAndHonoursAfter() {
    JsonObject job = f.submit("replay later");
    List<SseClient.Event> live;
    try (SseClient sse = f.sse(events(job), null)) {
      live = readToEnd(sse);
    }
    try (SseClient sse = f.sse(events(job), null)) {
      List<SseClient.Event> again = readToEnd(sse);
      assertDense(again, 1, 30);
      assertEquals(text(live), text(again));
      assertEquals("job:completed", again.get(again.size() - 1).event());
    }
    try (SseClient sse = f.sse(events(job) + "&after=28", null)) {
      List<SseClient.Event> tail = readToEnd(sse);
      assertDense(tail, 29, 30);
    }
  }

  @Test
  void manyConcurrentStreamsEachGetTheirWholeJob() {
    List<JsonObject> jobs = new ArrayList<>();
    List<SseClient> clients = new ArrayList<>();
    for (int i = 0; i < 40; i++) {
      JsonObject job = f.submit(new JsonObject().put("prompt", "load " + i).put("batch", 1 + i % 5));
      jobs.add(job);
      clients.add(f.sse(events(job), null));
    }
    try {
      for (int i = 0; i < jobs.size(); i++) {
        List<SseClient.Event> all = readToEnd(clients.get(i));
        SseClient.Event done = all.get(all.size() - 1);
        assertEquals("job:completed", done.event());
        assertDense(all, 1, done.data().getLong("lastSequence"));
        assertEquals(done.data().getString("result"), text(all));
      }
    } finally {
      clients.forEach(SseClient::close);
    }
  }
}
