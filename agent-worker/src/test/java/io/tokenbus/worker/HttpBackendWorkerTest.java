package io.tokenbus.worker;

import static io.tokenbus.worker.backend.Recorded.NDJSON;
import static io.tokenbus.worker.backend.Recorded.OPENAI_DONE;
import static io.tokenbus.worker.backend.Recorded.OPENAI_FINISH;
import static io.tokenbus.worker.backend.Recorded.OPENAI_ROLE;
import static io.tokenbus.worker.backend.Recorded.OPENAI_USAGE;
import static io.tokenbus.worker.backend.Recorded.SSE;
import static io.tokenbus.worker.backend.Recorded.ollamaLine;
import static io.tokenbus.worker.backend.Recorded.openAiText;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
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
import io.tokenbus.events.Priority;
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
import io.tokenbus.worker.backend.FakeProvider;
import io.tokenbus.worker.backend.FakeProvider.Answer;
import io.tokenbus.worker.backend.FakeProvider.Await;
import io.tokenbus.worker.backend.FakeProvider.End;
import io.tokenbus.worker.backend.FakeProvider.Stall;
import io.tokenbus.worker.backend.FakeProvider.Write;
import io.tokenbus.worker.backend.Recorded;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.EventBus;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonObject;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The worker end to end against fake HTTP providers and a real checkpoint store: batching and the flush delay with a
 * streaming model, upstream failures as job:failed with replayable chunks, cancel closing the upstream connection,
 * a research workflow over HTTP.
 */
class HttpBackendWorkerTest {
  private static final String MODEL = "fake-model";
  private static final long FLUSH_DELAY_MS = 20;

  private static TestRedis redis;
  private static Node node;
  private static EventBus eb;
  private static Vertx providers;

  @BeforeAll
  static void start() {
    redis = TestRedis.start();
    node = Node.local();
    eb = node.vertx().eventBus();
    providers = Vertx.vertx();
    node.vertx().deployVerticle(new CheckpointVerticle(CheckpointConfig.defaults(redis.url()), node.registry())).await();
  }

  @AfterAll
  static void stop() {
    providers.close().await();
    node.close().await();
    redis.close();
  }

  /** A worker whose default backend is {@code fake} (of the given kind) at the fake's URL, for one test. */
  private static final class Worker implements AutoCloseable {
    final String deployment;

    Worker(String kind, String url, long idleMs) {
      WorkerConfig w = WorkerConfig.defaults().withFlushDelayMs(FLUSH_DELAY_MS)
        .withBackends(List.of(new BackendConfig("fake", kind, url, MODEL, "sk-test", 2000, idleMs, 0)), "fake");
      deployment = node.vertx().deployVerticle(new AgentWorkerVerticle(w, node.registry())).await();
    }

    @Override
    public void close() {
      node.vertx().undeploy(deployment).await();
    }
  }

  /** Everything one job publishes, in arrival order; {@code onChunk} also sees chunks, on the bus thread. */
  private record Job(String id, LinkedBlockingQueue<Object> events, List<MessageConsumer<Object>> consumers) {
    List<Object> untilTerminal() throws InterruptedException {
      List<Object> out = new ArrayList<>();
      while (true) {
        Object o = events.poll(Patience.SECONDS, TimeUnit.SECONDS);
        if (o == null) {
          throw new AssertionError("no terminal event; got " + out);
        }
        out.add(o);
        if (o instanceof StatusEvent) {
          consumers.forEach(MessageConsumer::unregister);
          return out;
        }
      }
    }

    Object next() throws InterruptedException {
      Object o = events.poll(Patience.SECONDS, TimeUnit.SECONDS);
      if (o == null) {
        throw new AssertionError("nothing published");
      }
      return o;
    }
  }

  private static Job submit(JobRequest request, Consumer<ChunkEvent> onChunk) {
    String id = JobIds.newId(new SecureRandom());
    JobAssignment a = new JobAssignment(id, request, System.currentTimeMillis());
    eb.request(Addresses.CHECKPOINT_OPEN, a).await();
    LinkedBlockingQueue<Object> q = new LinkedBlockingQueue<>();
    List<MessageConsumer<Object>> cs = new ArrayList<>();
    for (String address : List.of(Addresses.chunk(id), Addresses.progress(id), Addresses.status(id))) {
      cs.add(eb.consumer(address, m -> {
        if (m.body() instanceof ChunkEvent c) {
          onChunk.accept(c);
        }
        q.add(m.body());
      }));
    }
    cs.forEach(c -> c.completion().await());
    JsonObject accepted = eb.<JsonObject>request(Addresses.WORKER_RUN, a).await().body();
    assertEquals("fake", accepted.getString("backend"));
    return new Job(id, q, cs);
  }

  private static JobRequest ask(String prompt, int batch) {
    return new JobRequest(prompt, JobType.ASK, null, null, batch, Priority.INTERACTIVE);
  }

  private static List<ChunkEvent> chunks(List<Object> events) {
    return events.stream().filter(o -> o instanceof ChunkEvent).map(o -> (ChunkEvent) o).toList();
  }

  private static JobSnapshot replay(String jobId) {
    return eb.<JobSnapshot>request(Addresses.CHECKPOINT_REPLAY, new ReplayRequest(jobId, 0, 0)).await().body();
  }

  @Test
  void batchGroupsUpToKTokensPerChunkWithDenseSequences() throws Exception {
    List<String> words = new ArrayList<>();
    List<FakeProvider.Step> script = new ArrayList<>(List.of(new Write(OPENAI_ROLE)));
    for (int i = 0; i < 23; i++) {
      words.add(" w" + i);
      script.add(new Write(openAiText(" w" + i)));
    }
    script.addAll(List.of(new Write(OPENAI_FINISH), new Write(OPENAI_USAGE), new Write(OPENAI_DONE), new End()));
    try (FakeProvider fake = new FakeProvider(providers, List.of(new Answer(200, SSE, script)));
         Worker w = new Worker(BackendConfig.OPENAI, fake.baseUrl(), 5000)) {
      Job job = submit(ask("batch please", 5), c -> {});
      List<Object> events = job.untilTerminal();
      List<ChunkEvent> chunks = chunks(events);
      StatusEvent done = (StatusEvent) events.get(events.size() - 1);
      assertEquals(JobState.COMPLETED, done.state());
      int tokens = 0;
      StringBuilder text = new StringBuilder();
      for (int i = 0; i < chunks.size(); i++) {
        ChunkEvent c = chunks.get(i);
        assertEquals(i + 1, c.sequence(), "dense sequences");
        assertTrue(c.metadata().tokens() >= 1 && c.metadata().tokens() <= 5, "batch=5: " + c.metadata().tokens());
        assertEquals(MODEL, c.metadata().model());
        assertEquals(Step.WRITING, c.metadata().step());
        tokens += c.metadata().tokens();
        text.append(c.chunk());
      }
      assertEquals(23, tokens);
      assertEquals(String.join("", words), text.toString());
      assertEquals(String.join("", words), done.result());
      assertEquals(chunks.size(), done.lastSequence());
      assertNotNull(chunks.get(chunks.size() - 1).metadata().tokensPerSec(), "the job's measured rate");
      assertEquals(chunks, replay(job.id()).chunks());
    }
  }

  @Test
  void aSlowModelsTokensAreFlushedWithinTheDelayNotHeldForAFullBatch() throws Exception {
    // batch=10, but the fake writes token i+1 only once token i was published: without the flush delay the worker
    // would wait for a full batch forever (the job would never end).
    int n = 8;
    List<Promise<Void>> published = new ArrayList<>();
    long[] writtenAt = new long[n];
    long[] seenAt = new long[n];
    List<FakeProvider.Step> script = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      int k = i;
      published.add(Promise.promise());
      script.add(new Await(x -> {
        writtenAt[k] = System.nanoTime();
        return Future.succeededFuture();
      }));
      script.add(new Write(ollamaLine("t" + i + " ", false)));
      script.add(new Await(x -> published.get(k).future()));
    }
    script.addAll(List.of(new Write(ollamaLine("", true)), new End()));
    try (FakeProvider fake = new FakeProvider(providers, List.of(new Answer(200, NDJSON, script)));
         Worker w = new Worker(BackendConfig.OLLAMA, fake.baseUrl(), 5000)) {
      int[] tokens = {0};
      Job job = submit(ask("slow", 10), c -> {
        for (int t = 0; t < c.metadata().tokens(); t++) {
          seenAt[tokens[0]] = System.nanoTime();
          published.get(tokens[0]++).complete();
        }
      });
      List<Object> events = job.untilTerminal();
      assertEquals(JobState.COMPLETED, ((StatusEvent) events.get(events.size() - 1)).state());
      assertEquals(n, chunks(events).size(), "each token went out alone, after the flush delay");
      List<Long> latencies = new ArrayList<>();
      for (int i = 0; i < n; i++) {
        latencies.add((seenAt[i] - writtenAt[i]) / 1_000_000);
      }
      List<Long> sorted = latencies.stream().sorted().toList();
      // A person must see text within ~50 ms of the model producing it (flush delay 20 ms + store + bus).
      assertTrue(sorted.get(n / 2) <= 50, "median provider-write to published: " + latencies);
      assertTrue(sorted.get(n - 1) < 250, "worst provider-write to published: " + latencies);
    }
  }

  /** Upstream failures after two tokens, as each provider kind sends them. */
  enum Failure {
    OPENAI_CUT(BackendConfig.OPENAI, JobError.BACKEND_STREAM_CUT, new End()),
    OPENAI_MID_STREAM_ERROR(BackendConfig.OPENAI, JobError.BACKEND_HTTP_ERROR,
      new Write("data: {\"error\":{\"message\":\"overloaded\",\"type\":\"server_error\",\"param\":null,\"code\":null}}\n\n")),
    OPENAI_MALFORMED(BackendConfig.OPENAI, JobError.BACKEND_PROTOCOL_ERROR, new Write("data: {\"choices\":[{\n\n")),
    OPENAI_STALL(BackendConfig.OPENAI, JobError.BACKEND_IDLE_TIMEOUT, new Stall()),
    OLLAMA_CUT(BackendConfig.OLLAMA, JobError.BACKEND_STREAM_CUT, new End()),
    OLLAMA_MID_STREAM_ERROR(BackendConfig.OLLAMA, JobError.BACKEND_HTTP_ERROR, new Write(Recorded.OLLAMA_MID_STREAM)),
    OLLAMA_MALFORMED(BackendConfig.OLLAMA, JobError.BACKEND_PROTOCOL_ERROR, new Write("{\"message\":\n")),
    OLLAMA_STALL(BackendConfig.OLLAMA, JobError.BACKEND_IDLE_TIMEOUT, new Stall());

    final String kind;
    final String code;
    final FakeProvider.Step failure;

    Failure(String kind, String code, FakeProvider.Step failure) {
      this.kind = kind;
      this.code = code;
      this.failure = failure;
    }

    Answer answer() {
      boolean openAi = kind.equals(BackendConfig.OPENAI);
      String hello = openAi ? openAiText("Hello") : ollamaLine("Hello", false);
      String there = openAi ? openAiText(" there") : ollamaLine(" there", false);
      List<FakeProvider.Step> steps = new ArrayList<>();
      if (openAi) {
        steps.add(new Write(OPENAI_ROLE));
      }
      steps.addAll(List.of(new Write(hello), new Write(there), failure));
      if (failure instanceof Write) {
        steps.add(new Stall()); // the failure alone must end the job
      }
      return new Answer(200, openAi ? SSE : NDJSON, steps);
    }
  }

  @ParameterizedTest
  @EnumSource(Failure.class)
  void upstreamFailuresEndTheJobWithTheirCodeAndKeepSentChunksReplayable(Failure f) throws Exception {
    try (FakeProvider fake = new FakeProvider(providers, List.of(f.answer()));
         Worker w = new Worker(f.kind, fake.baseUrl(), 400)) {
      Job job = submit(ask("fail " + f, 1), c -> {});
      List<Object> events = job.untilTerminal();
      StatusEvent s = (StatusEvent) events.get(events.size() - 1);
      assertEquals(JobState.FAILED, s.state());
      assertEquals(f.code, s.error().code(), s.error().message());
      List<ChunkEvent> live = chunks(events);
      assertEquals("Hello there", String.join("", live.stream().map(ChunkEvent::chunk).toList()));
      assertEquals(live.size(), s.lastSequence());
      JobSnapshot stored = replay(job.id());
      assertEquals(live, stored.chunks());
      assertEquals(JobState.FAILED, stored.state());
    }
  }

  @Test
  void failuresBeforeAnyTokenEndTheJobToo() throws Exception {
    try (FakeProvider fake = new FakeProvider(providers, List.of(FakeProvider.error(401, Recorded.OPENAI_401)));
         Worker w = new Worker(BackendConfig.OPENAI, fake.baseUrl(), 5000)) {
      StatusEvent s = (StatusEvent) last(submit(ask("401", 1), c -> {}).untilTerminal());
      assertEquals(JobError.BACKEND_HTTP_ERROR, s.error().code());
      assertTrue(s.error().message().contains("Incorrect API key provided"), s.error().message());
      assertEquals(0, s.lastSequence());
    }
    int closedPort = TestRedis.freePort();
    try (Worker w = new Worker(BackendConfig.OLLAMA, "http://127.0.0.1:" + closedPort, 5000)) {
      StatusEvent s = (StatusEvent) last(submit(ask("refused", 1), c -> {}).untilTerminal());
      assertEquals(JobError.BACKEND_UNREACHABLE, s.error().code());
    }
  }

  private static Object last(List<Object> events) {
    return events.get(events.size() - 1);
  }

  @Test
  void cancelReachingTheWorkerClosesTheUpstreamConnection() throws Exception {
    try (FakeProvider fake = new FakeProvider(providers, List.of(FakeProvider.ok(NDJSON,
      new Write(ollamaLine("one", false)), new Write(ollamaLine(" two", false)), new Stall())));
         Worker w = new Worker(BackendConfig.OLLAMA, fake.baseUrl(), 60_000)) {
      Job job = submit(ask("cancel me", 1), c -> {});
      List<ChunkEvent> chunks = new ArrayList<>();
      while (chunks.stream().mapToInt(c -> c.metadata().tokens()).sum() < 2) {
        if (job.next() instanceof ChunkEvent c) {
          chunks.add(c);
        }
      }
      long sentAt = System.nanoTime();
      eb.publish(Addresses.WORKER_CANCEL, new JsonObject().put("jobId", job.id()));
      long ms = (fake.closedAtNanos.get(Patience.SECONDS, TimeUnit.SECONDS) - sentAt) / 1_000_000;
      // 100 ms is the requirement; the bus hop on a loaded box gets a little slack.
      assertTrue(ms < 150, "upstream closed " + ms + " ms after the cancel was sent");
      List<Object> rest = job.untilTerminal();
      StatusEvent s = (StatusEvent) last(rest);
      assertEquals(JobState.CANCELLED, s.state());
      assertEquals(List.of(), chunks(rest), "nothing after the cancel");
      assertEquals(chunks.size(), s.lastSequence());
      assertEquals(chunks, replay(job.id()).chunks());
    }
  }

  @Test
  void aResearchJobOverHttpStreamsItsStepsAndFeedsThePlanToTheWriter() throws Exception {
    Answer plan = FakeProvider.ok(SSE, new Write(OPENAI_ROLE), new Write(openAiText("1. look")), new Write(openAiText(" up")),
      new Write(OPENAI_FINISH), new Write(OPENAI_DONE), new End());
    Answer answer = FakeProvider.ok(SSE, new Write(OPENAI_ROLE), new Write(openAiText("The")), new Write(openAiText(" answer")),
      new Write(OPENAI_FINISH), new Write(OPENAI_DONE), new End());
    try (FakeProvider fake = new FakeProvider(providers, List.of(plan, answer));
         Worker w = new Worker(BackendConfig.OPENAI, fake.baseUrl(), 5000)) {
      List<Object> events = submit(new JobRequest("what is streaming", JobType.RESEARCH, null, null, 1,
        Priority.INTERACTIVE), c -> {}).untilTerminal();
      LinkedHashSet<Step> steps = new LinkedHashSet<>();
      StringBuilder writing = new StringBuilder();
      List<ProgressEvent> progress = new ArrayList<>();
      for (Object o : events) {
        if (o instanceof ChunkEvent c) {
          steps.add(c.metadata().step());
          if (c.metadata().step() == Step.WRITING) {
            writing.append(c.chunk());
          }
        } else if (o instanceof ProgressEvent p) {
          progress.add(p);
        }
      }
      assertEquals(List.of(Step.THINKING, Step.SEARCHING, Step.WRITING), new ArrayList<>(steps));
      assertEquals("The answer", writing.toString());
      assertEquals(0, progress.get(0).progress());
      assertEquals(Step.THINKING, progress.get(0).step());
      assertEquals(100, progress.get(progress.size() - 1).progress());
      assertEquals(JobState.COMPLETED, ((StatusEvent) last(events)).state());
      assertEquals(2, fake.bodies.size(), "one request per model step");
      String writerPrompt = fake.bodies.get(1).getJsonArray("messages").encode();
      assertTrue(writerPrompt.contains("1. look up") && writerPrompt.contains("what is streaming"), writerPrompt);
    }
  }
}
