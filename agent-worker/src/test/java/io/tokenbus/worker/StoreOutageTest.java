package io.tokenbus.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tokenbus.checkpoint.CheckpointConfig;
import io.tokenbus.checkpoint.CheckpointVerticle;
import io.tokenbus.events.Addresses;
import io.tokenbus.events.ChunkEvent;
import io.tokenbus.events.JobIds;
import io.tokenbus.events.JobRequest;
import io.tokenbus.events.JobState;
import io.tokenbus.events.StatusEvent;
import io.tokenbus.events.internal.JobAssignment;
import io.tokenbus.events.internal.JobSnapshot;
import io.tokenbus.events.internal.ReplayRequest;
import io.tokenbus.runtime.Node;
import io.tokenbus.testing.TestRedis;
import io.tokenbus.worker.backend.BackendConfig;
import io.vertx.core.eventbus.EventBus;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The worker while the checkpoint store is gone (its verticle undeployed: every write fails fast with a retryable
 * code, as when Redis restarts or the checkpoint process dies): jobs wait with the model paused and carry on exactly
 * when the store is back within the outage budget; past the budget nothing unstored is ever published.
 */
class StoreOutageTest {
  private TestRedis redis;
  private Node node;
  private EventBus eb;
  private AgentWorkerVerticle worker;
  private String checkpointId;

  @BeforeEach
  void start() {
    redis = TestRedis.start();
    node = Node.local();
    eb = node.vertx().eventBus();
    deployStore();
  }

  @AfterEach
  void stop() {
    node.close().await();
    redis.close();
  }

  private void deployStore() {
    checkpointId = node.vertx().deployVerticle(new CheckpointVerticle(CheckpointConfig.defaults(redis.url()), node.registry())).await();
  }

  private void deployWorker(long outageMs) {
    WorkerConfig w = new WorkerConfig(10, 100, 100, 20, 256, 32_768, 128, outageMs, 100_000, List.of(), null, false, null, 2000, 15_000,
      BackendConfig.DEFAULT_MAX_RETRY_AFTER_SECONDS, 0, 3, 0);
    worker = LocalWorkers.verticle(w, node.registry());
    node.vertx().deployVerticle(worker).await();
  }

  private String submit(LinkedBlockingQueue<Object> events) {
    String id = JobIds.newId(new SecureRandom());
    JobAssignment a = new JobAssignment(id, JobRequest.ask("outage"), System.currentTimeMillis());
    eb.request(Addresses.CHECKPOINT_OPEN, a).await();
    eb.consumer(Addresses.chunk(id), m -> events.add(m.body())).completion().await();
    eb.consumer(Addresses.status(id), m -> events.add(m.body())).completion().await();
    eb.request(Addresses.WORKER_RUN, a).await();
    return id;
  }

  private static Object next(LinkedBlockingQueue<Object> q, int seconds) throws InterruptedException {
    Object o = q.poll(seconds, TimeUnit.SECONDS);
    if (o == null) {
      throw new AssertionError("nothing published within " + seconds + " s");
    }
    return o;
  }

  /** Failed before the fix: 5 retries over ~1.6 s, then job:failed checkpoint_failed. */
  @Test
  void aStoreOutageWithinTheBudgetPausesTheJobWhichThenCompletesExactly() throws Exception {
    deployWorker(60_000);
    LinkedBlockingQueue<Object> events = new LinkedBlockingQueue<>();
    String id = submit(events);
    List<ChunkEvent> chunks = new ArrayList<>();
    while (chunks.size() < 5) {
      chunks.add((ChunkEvent) next(events, 10));
    }
    node.vertx().undeploy(checkpointId).await();
    long down = System.nanoTime();
    // Down for 4 s, well past the old retry window; the model keeps producing into the outbox, then pauses.
    node.vertx().timer(4000).await();
    deployStore();
    StatusEvent end = null;
    while (end == null) {
      Object o = next(events, 20);
      if (o instanceof StatusEvent s) {
        end = s;
      } else {
        chunks.add((ChunkEvent) o);
      }
    }
    assertTrue(System.nanoTime() - down >= TimeUnit.SECONDS.toNanos(4));
    assertEquals(JobState.COMPLETED, end.state(), String.valueOf(end.error()));
    for (int i = 0; i < chunks.size(); i++) {
      assertEquals(i + 1, chunks.get(i).sequence(), "dense, exactly once, in order");
    }
    assertEquals(chunks.size(), end.lastSequence());
    JobSnapshot stored = eb.<JobSnapshot>request(Addresses.CHECKPOINT_REPLAY, new ReplayRequest(id, 0, 0)).await().body();
    assertEquals(chunks, stored.chunks());
  }

  /** Failed before the fix: job:failed was published with a guessed lastSequence although the store never held it. */
  @Test
  void pastTheBudgetNoTerminalIsPublishedThatTheStoreDoesNotHold() throws Exception {
    deployWorker(1000);
    LinkedBlockingQueue<Object> events = new LinkedBlockingQueue<>();
    String id = submit(events);
    List<ChunkEvent> chunks = new ArrayList<>();
    while (chunks.size() < 3) {
      chunks.add((ChunkEvent) next(events, 10));
    }
    node.vertx().undeploy(checkpointId).await();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
    while (worker.runningJobs() > 0) {
      assertTrue(System.nanoTime() < deadline, "the worker gave the job up after its budget");
      node.vertx().timer(50).await(); // polls a counter that has no event to await
    }
    for (Object o; (o = events.poll()) != null; ) {
      assertTrue(o instanceof ChunkEvent, "no terminal the store does not hold: " + o);
      chunks.add((ChunkEvent) o);
    }
    deployStore();
    JobSnapshot stored = eb.<JobSnapshot>request(Addresses.CHECKPOINT_REPLAY, new ReplayRequest(id, 0, 0)).await().body();
    assertEquals(JobState.RUNNING, stored.state(), "the store never took a terminal, so none was published");
    assertEquals(chunks.size(), stored.lastSequence(), "everything published was stored");
    assertNull(events.poll(200, TimeUnit.MILLISECONDS));
  }
}
