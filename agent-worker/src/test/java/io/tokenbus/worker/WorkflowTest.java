package io.tokenbus.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tokenbus.checkpoint.CheckpointConfig;
import io.tokenbus.checkpoint.CheckpointVerticle;
import io.tokenbus.events.Addresses;
import io.tokenbus.events.ChunkEvent;
import io.tokenbus.events.JobError;
import io.tokenbus.events.JobIds;
import io.tokenbus.events.JobRequest;
import io.tokenbus.events.JobState;
import io.tokenbus.events.JobType;
import io.tokenbus.events.ProgressEvent;
import io.tokenbus.events.StatusEvent;
import io.tokenbus.events.Step;
import io.tokenbus.events.internal.JobAssignment;
import io.tokenbus.events.internal.JobSnapshot;
import io.tokenbus.events.internal.ReplayRequest;
import io.tokenbus.runtime.Node;
import io.tokenbus.testing.Patience;
import io.tokenbus.testing.TestRedis;
import io.tokenbus.worker.backend.BackendConfig;
import io.vertx.core.eventbus.EventBus;
import io.vertx.core.http.HttpServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Multi-step workflows and backend failures end to end through the worker, against a real checkpoint store. */
class WorkflowTest {
  private static TestRedis redis;
  private static Node node;
  private static EventBus eb;
  private static HttpServer cutting;

  @BeforeAll
  static void start() throws Exception {
    redis = TestRedis.start();
    node = Node.local();
    eb = node.vertx().eventBus();
    // An OpenAI-compatible fake that sends two tokens, then drops the connection.
    cutting = node.vertx().createHttpServer().requestHandler(req -> req.body().onSuccess(b -> {
      var resp = req.response().putHeader("content-type", "text/event-stream").setChunked(true);
      resp.write("data: {\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"},\"finish_reason\":null}]}\n\n");
      resp.write("data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hello\"},\"finish_reason\":null}]}\n\n");
      resp.write("data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\" there\"},\"finish_reason\":null}]}\n\n")
        .onComplete(ar -> node.vertx().setTimer(50, id -> req.connection().close()));
    })).listen(0, "127.0.0.1").await();
    Path docs = Files.createTempDirectory("tokenbus-docs");
    Files.writeString(docs.resolve("streaming.md"), "# Streaming\n\nToken streaming shows output as the model writes it.\n\n"
      + "Unrelated paragraph about gardening.\n");
    node.vertx().deployVerticle(new CheckpointVerticle(CheckpointConfig.defaults(redis.url()), node.registry())).await();
    WorkerConfig w = WorkerConfig.defaults().withLocalGenerator(400, 40).withDocsDir(docs.toString())
      .withBackends(List.of(new BackendConfig("cutting", BackendConfig.OPENAI, "http://127.0.0.1:" + cutting.actualPort(),
        "fake-model", null, 2000, 5000, 0)), "local");
    node.vertx().deployVerticle(new AgentWorkerVerticle(w, node.registry())).await();
  }

  @AfterAll
  static void stop() {
    node.close().await();
    redis.close();
  }

  private static LinkedBlockingQueue<Object> run(String jobId, JobRequest request) {
    JobAssignment a = new JobAssignment(jobId, request, 1);
    eb.request(Addresses.CHECKPOINT_OPEN, a).await();
    LinkedBlockingQueue<Object> q = new LinkedBlockingQueue<>();
    for (String address : List.of(Addresses.chunk(jobId), Addresses.progress(jobId), Addresses.status(jobId))) {
      eb.consumer(address, m -> q.add(m.body())).completion().await();
    }
    eb.request(Addresses.WORKER_RUN, a).await();
    return q;
  }

  private static List<Object> untilTerminal(LinkedBlockingQueue<Object> q) throws InterruptedException {
    List<Object> out = new ArrayList<>();
    while (true) {
      Object o = q.poll(Patience.SECONDS, TimeUnit.SECONDS);
      if (o == null) {
        throw new AssertionError("no terminal event; got " + out);
      }
      out.add(o);
      if (o instanceof StatusEvent) {
        return out;
      }
    }
  }

  @Test
  void researchStreamsThinkingSearchingAndWritingWithProgressTo100() throws Exception {
    String id = JobIds.newId(new SecureRandom());
    List<Object> events = untilTerminal(run(id, JobRequest.ask("how does token streaming work").withType(JobType.RESEARCH)));
    LinkedHashSet<Step> steps = new LinkedHashSet<>();
    StringBuilder searching = new StringBuilder();
    List<Integer> progress = new ArrayList<>();
    for (Object o : events) {
      if (o instanceof ChunkEvent c) {
        steps.add(c.metadata().step());
        if (c.metadata().step() == Step.SEARCHING) {
          searching.append(c.chunk());
        }
      } else if (o instanceof ProgressEvent p) {
        progress.add(p.progress());
      }
    }
    assertEquals(List.of(Step.THINKING, Step.SEARCHING, Step.WRITING), new ArrayList<>(steps), "steps in order");
    assertTrue(searching.toString().contains("streaming.md") && searching.toString().contains("Token streaming shows output"),
      searching.toString());
    assertTrue(!searching.toString().contains("gardening"), "only matching paragraphs");
    assertEquals(0, progress.get(0));
    assertEquals(100, progress.get(progress.size() - 1));
    for (int i = 1; i < progress.size(); i++) {
      assertTrue(progress.get(i) >= progress.get(i - 1), "progress never goes back: " + progress);
    }
    assertEquals(JobState.COMPLETED, ((StatusEvent) events.get(events.size() - 1)).state());
  }

  @Test
  void codeAndAnalysisThinkThenWrite() throws Exception {
    for (JobType t : List.of(JobType.CODE, JobType.ANALYSIS)) {
      List<Object> events = untilTerminal(run(JobIds.newId(new SecureRandom()), JobRequest.ask("sort a list").withType(t)));
      LinkedHashSet<Step> steps = new LinkedHashSet<>();
      events.stream().filter(o -> o instanceof ChunkEvent).forEach(o -> steps.add(((ChunkEvent) o).metadata().step()));
      assertEquals(List.of(Step.THINKING, Step.WRITING), new ArrayList<>(steps), t + " steps");
    }
  }

  @Test
  void aCutUpstreamFailsTheJobAndKeepsWhatWasSentReplayable() throws Exception {
    String id = JobIds.newId(new SecureRandom());
    JobRequest r = new JobRequest("hi", JobType.ASK, null, "cutting", 1, null);
    List<Object> events = untilTerminal(run(id, r));
    StatusEvent s = (StatusEvent) events.get(events.size() - 1);
    assertEquals(JobState.FAILED, s.state());
    assertEquals(JobError.BACKEND_STREAM_CUT, s.error().code());
    List<ChunkEvent> live = events.stream().filter(o -> o instanceof ChunkEvent).map(o -> (ChunkEvent) o).toList();
    assertEquals("Hello there", String.join("", live.stream().map(ChunkEvent::chunk).toList()));
    assertEquals("fake-model", live.get(0).metadata().model());
    assertEquals(live.size(), s.lastSequence());
    JobSnapshot stored = eb.<JobSnapshot>request(Addresses.CHECKPOINT_REPLAY, new ReplayRequest(id, 0, 0)).await().body();
    assertEquals(live, stored.chunks());
    assertEquals(JobState.FAILED, stored.state());
  }
}
