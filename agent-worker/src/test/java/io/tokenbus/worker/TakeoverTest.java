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
import io.tokenbus.events.JobType;
import io.tokenbus.events.StatusEvent;
import io.tokenbus.events.internal.AppendRequest;
import io.tokenbus.events.internal.AppendResult;
import io.tokenbus.events.internal.JobAssignment;
import io.tokenbus.events.internal.JobSnapshot;
import io.tokenbus.events.internal.ReplayRequest;
import io.tokenbus.events.internal.Takeover;
import io.tokenbus.runtime.Node;
import io.tokenbus.testing.Patience;
import io.tokenbus.testing.TestRedis;
import io.tokenbus.worker.backend.Backends;
import io.tokenbus.worker.backend.LocalGeneratorBackend;
import io.vertx.core.Future;
import io.vertx.core.eventbus.EventBus;
import io.vertx.core.eventbus.MessageConsumer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * A job continued by another worker (issue 8, section 3), in one process against a real Redis: the store holds the
 * first k chunks a dead worker wrote (taken from a reference run of the same job), its lease runs out, a takeover is
 * requested, and the continued job must end with exactly the reference text: nothing repeated, nothing skipped,
 * sequences dense, whichever step the cut fell in.
 */
class TakeoverTest {
  private static final Duration LEASE = Duration.ofMillis(300);
  private static TestRedis redis;
  private static Node node;
  private static EventBus eb;

  @BeforeAll
  static void start() {
    redis = TestRedis.start();
    node = Node.local();
    eb = node.vertx().eventBus();
    node.vertx().deployVerticle(new CheckpointVerticle(CheckpointConfig.defaults(redis.url()).withInitialLease(LEASE),
      node.registry())).await();
    WorkerConfig w = WorkerConfig.defaults().withLocalGenerator(400, 40);
    node.vertx().deployVerticle(LocalWorkers.verticle(w, node.registry())).await();
  }

  @AfterAll
  static void stop() {
    node.close().await();
    redis.close();
  }

  /** @param cut the share of the reference chunks the dead worker had stored */
  @ParameterizedTest
  @CsvSource({"ask, 0.0", "ask, 0.5", "ask, 1.0", "code, 0.2", "code, 0.7", "research, 0.3", "research, 0.45", "research, 0.8"})
  void aJobTakenOverEndsWithExactlyTheTextOfAnUninterruptedRun(String type, double cut) throws Exception {
    JobRequest request = JobRequest.ask("takeover " + type).withType(JobType.fromWire(type));
    String reference = open(request);
    LinkedBlockingQueue<Object> refEvents = follow(reference);
    eb.request(Addresses.WORKER_RUN, new JobAssignment(reference, request, 1)).await();
    List<ChunkEvent> full = new ArrayList<>();
    StatusEvent refEnd = drain(refEvents, full);
    assertEquals(JobState.COMPLETED, refEnd.state());

    String id = open(request);
    int k = (int) Math.round(full.size() * cut);
    List<ChunkEvent> written = full.subList(0, k).stream()
      .map(c -> new ChunkEvent(id, c.chunk(), c.sequence(), c.timestamp(), c.metadata())).toList();
    AppendResult stored = eb.<AppendResult>request(Addresses.CHECKPOINT_APPEND, new AppendRequest(id, written, null, 1)).await().body();
    assertTrue(stored.accepted());
    LinkedBlockingQueue<Object> events = follow(id);
    assertEquals(Takeover.Result.CONTINUED, Takeovers.whenLeaseRanOut(eb, id, LEASE));

    List<ChunkEvent> rest = new ArrayList<>();
    StatusEvent end = drain(events, rest);
    assertEquals(JobState.COMPLETED, end.state(), String.valueOf(end.error()));
    for (int i = 0; i < rest.size(); i++) {
      assertEquals(k + 1 + i, rest.get(i).sequence(), "published sequences continue densely after the stored ones");
    }
    assertEquals(text(full), text(storedChunks(id)), "the continued job's log is the uninterrupted run's text");
    assertEquals(refEnd.result(), end.result(), "and so is its result");
  }

  /**
   * A rolling update whose drain deadline passes: the stopping worker hands its job over (chunks stored, lease
   * released) instead of ending it, and another worker completes it with the text an uninterrupted run gives.
   * Failed before: the job ended job:failed worker_lost at the deadline.
   */
  @Test
  void aJobStillRunningAtTheDrainDeadlineIsHandedOverNotEnded() throws Exception {
    WorkerConfig slow = WorkerConfig.defaults().withLocalGenerator(20, 40).withDrainMs(300);
    String leaving = node.vertx().deployVerticle(new AgentWorkerVerticle(slow, new SimpleMeterRegistry(), v -> Future.succeededFuture(
      new Backends(List.of(new LocalGeneratorBackend(v, slow.localTokensPerSecond(), slow.localMaxTokens())), LocalGeneratorBackend.NAME)))).await();
    JobRequest request = JobRequest.ask("hand over");
    List<String> ids = new ArrayList<>();
    List<LinkedBlockingQueue<Object>> queues = new ArrayList<>();
    for (int i = 0; i < 2; i++) { // round robin: one on each worker
      String id = open(request);
      queues.add(follow(id));
      eb.request(Addresses.WORKER_RUN, new JobAssignment(id, request, 1)).await();
      ids.add(id);
    }
    node.vertx().undeploy(leaving).await(); // drains 300 ms, then hands over what still runs (a 2 s job)
    List<String> outcomes = new ArrayList<>();
    for (String id : ids) {
      outcomes.add(Takeovers.whenLeaseRanOut(eb, id, LEASE));
    }
    assertTrue(outcomes.contains(Takeover.Result.CONTINUED), "the handed-over job was continued: " + outcomes);
    List<String> texts = new ArrayList<>();
    for (int i = 0; i < 2; i++) {
      List<ChunkEvent> chunks = new ArrayList<>();
      StatusEvent end = drain(queues.get(i), chunks);
      assertEquals(JobState.COMPLETED, end.state(), String.valueOf(end.error()));
      assertEquals(end.lastSequence(), storedChunks(ids.get(i)).size());
      texts.add(text(storedChunks(ids.get(i))));
    }
    assertEquals(texts.get(0), texts.get(1), "the same job, handed over or not, gives the same text");
  }

  private static String open(JobRequest request) {
    String id = JobIds.newId(new SecureRandom());
    eb.request(Addresses.CHECKPOINT_OPEN, new JobAssignment(id, request, 1)).await();
    return id;
  }

  private static LinkedBlockingQueue<Object> follow(String id) {
    LinkedBlockingQueue<Object> q = new LinkedBlockingQueue<>();
    List<MessageConsumer<?>> cs = List.of(eb.consumer(Addresses.chunk(id), m -> q.add(m.body())),
      eb.consumer(Addresses.status(id), m -> q.add(m.body())));
    cs.forEach(c -> c.completion().await());
    return q;
  }

  private static StatusEvent drain(LinkedBlockingQueue<Object> q, List<ChunkEvent> into) throws InterruptedException {
    while (true) {
      Object o = q.poll(Patience.SECONDS, TimeUnit.SECONDS);
      assertTrue(o != null, "nothing published within " + Patience.SECONDS + " s");
      if (o instanceof StatusEvent s) {
        assertNull(q.poll(), "nothing after the terminal");
        return s;
      }
      into.add((ChunkEvent) o);
    }
  }

  private static List<ChunkEvent> storedChunks(String id) {
    List<ChunkEvent> all = new ArrayList<>();
    while (true) {
      JobSnapshot s = eb.<JobSnapshot>request(Addresses.CHECKPOINT_REPLAY, new ReplayRequest(id, all.size(), 0)).await().body();
      all.addAll(s.chunks());
      if (all.size() >= s.lastSequence()) {
        return all;
      }
    }
  }

  private static String text(List<ChunkEvent> chunks) {
    StringBuilder b = new StringBuilder();
    chunks.forEach(c -> b.append(c.chunk()));
    return b.toString();
  }
}
