package io.tokenbus.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tokenbus.checkpoint.CheckpointConfig;
import io.tokenbus.checkpoint.CheckpointVerticle;
import io.tokenbus.events.Addresses;
import io.tokenbus.events.ChunkEvent;
import io.tokenbus.events.ErrorCode;
import io.tokenbus.events.JobIds;
import io.tokenbus.events.JobRequest;
import io.tokenbus.events.JobState;
import io.tokenbus.events.StatusEvent;
import io.tokenbus.events.TokenbusException;
import io.tokenbus.events.internal.JobAssignment;
import io.tokenbus.events.internal.JobSnapshot;
import io.tokenbus.events.internal.ReplayRequest;
import io.tokenbus.runtime.Node;
import io.tokenbus.testing.Patience;
import io.tokenbus.testing.TestRedis;
import io.vertx.core.eventbus.EventBus;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonObject;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The worker against a real checkpoint store: dense sequences, batching, persist-before-publish, cancel, limits. */
class AgentWorkerVerticleTest {
  private static TestRedis redis;
  private static Node node;
  private static EventBus eb;

  @BeforeAll
  static void start() {
    redis = TestRedis.start();
    node = Node.local();
    eb = node.vertx().eventBus();
    node.vertx().deployVerticle(new CheckpointVerticle(CheckpointConfig.defaults(redis.url()), node.registry())).await();
    WorkerConfig w = WorkerConfig.defaults().withLocalGenerator(200, 60).withMaxConcurrentJobs(3);
    node.vertx().deployVerticle(LocalWorkers.verticle(w, node.registry())).await();
  }

  @AfterAll
  static void stop() {
    node.close().await();
    redis.close();
  }

  /** Everything one job publishes, in arrival order. */
  private record Run(String jobId, LinkedBlockingQueue<Object> events, List<MessageConsumer<?>> consumers) {
    Object next() throws InterruptedException {
      Object o = events.poll(Patience.SECONDS, TimeUnit.SECONDS);
      if (o == null) {
        throw new AssertionError("nothing published within " + Patience.SECONDS + " s");
      }
      return o;
    }

    void close() {
      consumers.forEach(MessageConsumer::unregister);
    }
  }

  private static Run submit(JobRequest request) {
    String id = JobIds.newId(new SecureRandom());
    JobAssignment a = new JobAssignment(id, request, System.currentTimeMillis());
    eb.request(Addresses.CHECKPOINT_OPEN, a).await();
    LinkedBlockingQueue<Object> q = new LinkedBlockingQueue<>();
    List<MessageConsumer<?>> cs = List.of(
      eb.consumer(Addresses.chunk(id), m -> q.add(m.body())),
      eb.consumer(Addresses.status(id), m -> q.add(m.body())));
    cs.forEach(c -> c.completion().await());
    JsonObject accepted = eb.<JsonObject>request(Addresses.WORKER_RUN, a).await().body();
    assertEquals("tokenbus-local", accepted.getString("model"));
    return new Run(id, q, cs);
  }

  private static StatusEvent drain(Run run, List<ChunkEvent> into) throws InterruptedException {
    while (true) {
      Object o = run.next();
      if (o instanceof StatusEvent s) {
        return s;
      }
      into.add((ChunkEvent) o);
    }
  }

  @Test
  void streamsDenseBatchedChunksThatAreStoredBeforeTheyArePublished() throws Exception {
    Run run = submit(JobRequest.ask("batching").withBatch(5));
    List<ChunkEvent> chunks = new ArrayList<>();
    ChunkEvent first = (ChunkEvent) run.next();
    // Persist-before-publish: the store already holds a chunk when it is seen live.
    JobSnapshot atFirst = eb.<JobSnapshot>request(Addresses.CHECKPOINT_REPLAY, new ReplayRequest(run.jobId(), 0, 0)).await().body();
    assertTrue(atFirst.lastSequence() >= first.sequence());
    chunks.add(first);
    StatusEvent done = drain(run, chunks);
    run.close();
    assertEquals(JobState.COMPLETED, done.state());
    StringBuilder text = new StringBuilder();
    int tokens = 0;
    for (int i = 0; i < chunks.size(); i++) {
      ChunkEvent c = chunks.get(i);
      assertEquals(i + 1, c.sequence());
      int k = c.metadata().tokens();
      assertTrue(k >= 1 && k <= 5, "batch=5 means 1..5 tokens per chunk, got " + k);
      tokens += k;
      text.append(c.chunk());
      assertEquals("tokenbus-local", c.metadata().model());
    }
    assertEquals(60, tokens);
    assertEquals(chunks.size(), done.lastSequence());
    assertEquals(done.result(), text.toString());
    JobSnapshot stored = eb.<JobSnapshot>request(Addresses.CHECKPOINT_REPLAY, new ReplayRequest(run.jobId(), 0, 0)).await().body();
    assertEquals(chunks, stored.chunks());
    assertEquals(JobState.COMPLETED, stored.state());
  }

  @Test
  void aSlowModelsPartialBatchIsFlushedAfterTheDelay() throws Exception {
    // 200 tokens/s = one every 5 ms; batch 64 would wait 320 ms for a full batch; the 20 ms flush sends ~4 at a time.
    Run run = submit(JobRequest.ask("flush").withBatch(64));
    List<ChunkEvent> chunks = new ArrayList<>();
    drain(run, chunks);
    run.close();
    assertTrue(chunks.size() >= 5, "partial batches were flushed: " + chunks.size() + " chunks for 60 tokens");
    assertTrue(chunks.stream().allMatch(c -> c.metadata().tokens() < 64));
  }

  @Test
  void cancelStopsGenerationAndEndsWithCancelledAfterTheLastChunk() throws Exception {
    Run run = submit(JobRequest.ask("cancel"));
    List<ChunkEvent> chunks = new ArrayList<>();
    while (chunks.size() < 3) {
      chunks.add((ChunkEvent) run.next());
    }
    eb.publish(Addresses.WORKER_CANCEL, new JsonObject().put("jobId", run.jobId()));
    StatusEvent s = drain(run, chunks);
    assertEquals(JobState.CANCELLED, s.state());
    assertEquals(chunks.size(), s.lastSequence());
    assertTrue(chunks.size() < 60, "stopped before the end");
    assertEquals(null, run.events().poll(300, TimeUnit.MILLISECONDS), "nothing after job:cancelled");
    run.close();
  }

  @Test
  void refusesJobsBeyondItsConcurrencyLimit() throws Exception {
    List<Run> runs = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      runs.add(submit(JobRequest.ask("slot " + i)));
    }
    String id = JobIds.newId(new SecureRandom());
    JobAssignment a = new JobAssignment(id, JobRequest.ask("one too many"), 1);
    CompletableFuture<?> f = eb.request(Addresses.WORKER_RUN, a).toCompletionStage().toCompletableFuture();
    try {
      f.get(Patience.SECONDS, TimeUnit.SECONDS);
      throw new AssertionError("a fourth job was accepted");
    } catch (ExecutionException e) {
      assertEquals(ErrorCode.TOO_MANY_JOBS, TokenbusException.from(e.getCause()).code());
    }
    for (Run r : runs) {
      drain(r, new ArrayList<>());
      r.close();
    }
  }
}
