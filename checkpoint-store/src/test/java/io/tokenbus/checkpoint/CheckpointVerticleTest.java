package io.tokenbus.checkpoint;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tokenbus.events.Addresses;
import io.tokenbus.events.ChunkEvent;
import io.tokenbus.events.ErrorCode;
import io.tokenbus.events.JobIds;
import io.tokenbus.events.JobRequest;
import io.tokenbus.events.JobState;
import io.tokenbus.events.StatusEvent;
import io.tokenbus.events.TokenbusException;
import io.tokenbus.events.internal.AppendRequest;
import io.tokenbus.events.internal.AppendResult;
import io.tokenbus.events.internal.JobAssignment;
import io.tokenbus.events.internal.JobSnapshot;
import io.tokenbus.events.internal.ReplayRequest;
import io.tokenbus.runtime.Node;
import io.tokenbus.testing.TestRedis;
import io.vertx.core.Future;
import io.vertx.core.eventbus.EventBus;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.Request;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.stream.LongStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Against a real Redis, through the event bus, as workers and gateways use it. */
class CheckpointVerticleTest {
  private static TestRedis redis;
  private static Node node;
  private static EventBus eb;
  private static final SecureRandom random = new SecureRandom();

  @BeforeAll
  static void start() {
    redis = TestRedis.start();
    node = Node.local();
    eb = node.vertx().eventBus();
    CheckpointConfig config = CheckpointConfig.defaults(redis.url()).withRetention(Duration.ofSeconds(600)).withMaxReplayChunks(50);
    node.vertx().deployVerticle(new CheckpointVerticle(config, node.registry())).await();
  }

  @AfterAll
  static void stop() {
    node.close().await();
    redis.close();
  }

  private static String open() {
    String id = JobIds.newId(random);
    eb.request(Addresses.CHECKPOINT_OPEN, new JobAssignment(id, JobRequest.ask("p"), 42)).await();
    return id;
  }

  private static List<ChunkEvent> chunks(String id, long from, long to) {
    return LongStream.rangeClosed(from, to).mapToObj(s -> new ChunkEvent(id, "t" + s + " ", s, s, null)).toList();
  }

  private static AppendResult append(String id, List<ChunkEvent> chunks, StatusEvent terminal) {
    return eb.<AppendResult>request(Addresses.CHECKPOINT_APPEND, new AppendRequest(id, chunks, terminal)).await().body();
  }

  private static JobSnapshot replay(String id, long after) {
    return eb.<JobSnapshot>request(Addresses.CHECKPOINT_REPLAY, new ReplayRequest(id, after, 0)).await().body();
  }

  private static TokenbusException failure(Future<?> f) {
    try {
      f.toCompletionStage().toCompletableFuture().get();
    } catch (ExecutionException e) {
      return TokenbusException.from(e.getCause());
    } catch (InterruptedException e) {
      throw new IllegalStateException(e);
    }
    throw new AssertionError("expected a failure");
  }

  @Test
  void newJobIsQueuedThenRunning() {
    String id = open();
    JobSnapshot s = replay(id, 0);
    assertEquals(JobState.QUEUED, s.state());
    assertEquals(0, s.lastSequence());
    assertEquals(42, s.createdAt());
    assertEquals("ask", s.type());
    append(id, chunks(id, 1, 2), null);
    assertEquals(JobState.RUNNING, replay(id, 0).state());
  }

  @Test
  void replayReturnsChunksAfterTheGivenSequenceInOrder() {
    String id = open();
    append(id, chunks(id, 1, 3), null);
    append(id, chunks(id, 4, 10), null);
    JobSnapshot s = replay(id, 4);
    assertEquals(10, s.lastSequence());
    assertEquals(List.of(5L, 6L, 7L, 8L, 9L, 10L), s.chunks().stream().map(ChunkEvent::sequence).toList());
    assertEquals(chunks(id, 5, 10), s.chunks());
    assertFalse(s.hasMore());
    assertTrue(replay(id, 10).chunks().isEmpty());
  }

  @Test
  void duplicateAppendsAreIgnoredAndGapsRefused() {
    String id = open();
    append(id, chunks(id, 1, 5), null);
    AppendResult r = append(id, chunks(id, 3, 7), null); // retry overlapping what is stored
    assertEquals(7, r.lastSequence());
    assertEquals(chunks(id, 1, 7), replay(id, 0).chunks());
    TokenbusException gap = failure(eb.request(Addresses.CHECKPOINT_APPEND, new AppendRequest(id, chunks(id, 9, 9), null)));
    assertEquals(ErrorCode.CONFLICT, gap.code());
    assertEquals(7, replay(id, 0).lastSequence());
  }

  @Test
  void firstTerminalWinsAndClosesTheJob() {
    String id = open();
    append(id, chunks(id, 1, 3), null);
    AppendResult done = append(id, chunks(id, 4, 4), new StatusEvent(JobState.CANCELLED, id, 0, null, null));
    assertTrue(done.accepted());
    assertEquals(4, done.terminal().lastSequence(), "the store stamps the real last sequence on the terminal event");
    AppendResult late = append(id, chunks(id, 5, 6), new StatusEvent(JobState.COMPLETED, id, 6, "x", null));
    assertFalse(late.accepted());
    assertEquals(JobState.CANCELLED, late.state());
    JobSnapshot s = replay(id, 0);
    assertEquals(JobState.CANCELLED, s.state());
    assertEquals(4, s.lastSequence());
    assertEquals(chunks(id, 1, 4), s.chunks());
    assertEquals(JobState.CANCELLED, s.terminal().state());
  }

  @Test
  void largeReplaysArePaged() {
    String id = open();
    append(id, chunks(id, 1, 120), null);
    List<ChunkEvent> all = new ArrayList<>();
    long after = 0;
    JobSnapshot s;
    do {
      s = replay(id, after);
      assertTrue(s.chunks().size() <= 50);
      all.addAll(s.chunks());
      after = s.chunks().get(s.chunks().size() - 1).sequence();
    } while (s.hasMore());
    assertEquals(chunks(id, 1, 120), all);
  }

  @Test
  void unknownJobsAreNotFound() {
    String id = JobIds.newId(random);
    assertEquals(ErrorCode.NOT_FOUND, failure(eb.request(Addresses.CHECKPOINT_REPLAY, new ReplayRequest(id, 0, 0))).code());
    assertEquals(ErrorCode.NOT_FOUND,
      failure(eb.request(Addresses.CHECKPOINT_APPEND, new AppendRequest(id, chunks(id, 1, 1), null))).code());
  }

  @Test
  void keysExpireAfterTheRetention() {
    String id = open();
    append(id, chunks(id, 1, 2), null);
    Redis client = Redis.createClient(node.vertx(), redis.url());
    try {
      for (String key : List.of("tb:job:{" + id + "}:meta", "tb:job:{" + id + "}:log")) {
        long ttl = client.send(Request.cmd(Command.PTTL).arg(key)).await().toLong();
        assertTrue(ttl > 590_000 && ttl <= 600_000, key + " ttl " + ttl);
      }
    } finally {
      client.close();
    }
  }

  @Test
  void concurrentAppendsOfManyJobsArePipelinedWithoutLoss() {
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < 200; i++) {
      ids.add(open());
    }
    List<Future<?>> all = new ArrayList<>();
    for (String id : ids) {
      all.add(eb.request(Addresses.CHECKPOINT_APPEND, new AppendRequest(id, chunks(id, 1, 20), null)));
    }
    Future.all(all).await();
    for (String id : ids) {
      assertEquals(20, replay(id, 0).chunks().size());
    }
  }
}
