package io.tokenbus.checkpoint;

import static io.tokenbus.checkpoint.StoreFixture.chunks;
import static io.tokenbus.checkpoint.StoreFixture.failure;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tokenbus.events.Addresses;
import io.tokenbus.events.ChunkEvent;
import io.tokenbus.events.ErrorCode;
import io.tokenbus.events.JobState;
import io.tokenbus.events.StatusEvent;
import io.tokenbus.events.internal.AppendRequest;
import io.tokenbus.events.internal.AppendResult;
import io.tokenbus.events.internal.JobSnapshot;
import io.tokenbus.events.internal.LeaseRenewal;
import io.tokenbus.events.internal.ReplayRequest;
import io.tokenbus.testing.TestRedis;
import io.vertx.core.Future;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Against a real Redis, through the event bus, as workers and gateways use it. */
class CheckpointVerticleTest {
  private static final Duration LEASE = Duration.ofMillis(400);
  private static TestRedis redis;
  private static StoreFixture f;

  @BeforeAll
  static void start() {
    redis = TestRedis.start();
    f = StoreFixture.start(redis.url(), c -> c.withRetention(Duration.ofSeconds(600)).withMaxReplayChunks(50)
      .withInitialLease(LEASE));
  }

  @AfterAll
  static void stop() {
    f.close();
    redis.close();
  }

  @Test
  void newJobIsQueuedThenRunning() {
    String id = f.open();
    JobSnapshot s = f.replay(id, 0);
    assertEquals(JobState.QUEUED, s.state());
    assertEquals(0, s.lastSequence());
    assertEquals(42, s.createdAt());
    assertEquals("ask", s.type());
    f.append(id, chunks(id, 1, 2), null);
    assertEquals(JobState.RUNNING, f.replay(id, 0).state());
  }

  @Test
  void replayReturnsChunksAfterTheGivenSequenceInOrder() {
    String id = f.open();
    f.append(id, chunks(id, 1, 3), null);
    f.append(id, chunks(id, 4, 10), null);
    JobSnapshot s = f.replay(id, 4);
    assertEquals(10, s.lastSequence());
    assertEquals(List.of(5L, 6L, 7L, 8L, 9L, 10L), s.chunks().stream().map(ChunkEvent::sequence).toList());
    assertEquals(chunks(id, 5, 10), s.chunks());
    assertFalse(s.hasMore());
    assertTrue(f.replay(id, 10).chunks().isEmpty());
  }

  @Test
  void duplicateAppendsAreIgnored() {
    String id = f.open();
    f.append(id, chunks(id, 1, 5), null);
    AppendResult r = f.append(id, chunks(id, 3, 7), null); // retry overlapping what is stored
    assertTrue(r.accepted());
    assertEquals(7, r.lastSequence());
    assertEquals(chunks(id, 1, 7), f.replay(id, 0).chunks());
  }

  @Test
  void firstTerminalWinsAndClosesTheJob() {
    String id = f.open();
    f.append(id, chunks(id, 1, 3), null);
    AppendResult done = f.append(id, chunks(id, 4, 4), new StatusEvent(JobState.CANCELLED, id, 0, null, null));
    assertTrue(done.accepted());
    assertEquals(4, done.terminal().lastSequence(), "the store stamps the real last sequence on the terminal event");
    AppendResult late = f.append(id, chunks(id, 5, 6), new StatusEvent(JobState.COMPLETED, id, 6, "x", null));
    assertFalse(late.accepted());
    assertEquals(JobState.CANCELLED, late.state());
    assertEquals(done.terminal(), late.terminal(), "not accepted: the stored terminal comes back");
    JobSnapshot s = f.replay(id, 0);
    assertEquals(JobState.CANCELLED, s.state());
    assertEquals(4, s.lastSequence());
    assertEquals(chunks(id, 1, 4), s.chunks());
    assertEquals(JobState.CANCELLED, s.terminal().state());
  }

  @Test
  void largeReplaysArePaged() {
    String id = f.open();
    f.append(id, chunks(id, 1, 120), null);
    List<ChunkEvent> all = new ArrayList<>();
    long after = 0;
    JobSnapshot s;
    do {
      s = f.replay(id, after);
      assertTrue(s.chunks().size() <= 50);
      assertFalse(s.chunks().isEmpty(), "never hasMore without chunks");
      all.addAll(s.chunks());
      after = s.chunks().get(s.chunks().size() - 1).sequence();
    } while (s.hasMore());
    assertEquals(chunks(id, 1, 120), all);
  }

  @Test
  void unknownJobsAreNotFound() {
    String id = f.newId();
    assertEquals(ErrorCode.NOT_FOUND, failure(f.eb.request(Addresses.CHECKPOINT_REPLAY, new ReplayRequest(id, 0, 0))).code());
  }

  @Test
  void keysExpireAfterTheRetention() {
    String id = f.open();
    f.append(id, chunks(id, 1, 2), null);
    for (String key : List.of(StoreFixture.meta(id), StoreFixture.log(id))) {
      long ttl = f.redis("PTTL", key).toLong();
      assertTrue(ttl > 590_000 && ttl <= 600_000, key + " ttl " + ttl);
    }
  }

  @Test
  void concurrentAppendsOfManyJobsArePipelinedWithoutLoss() {
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < 200; i++) {
      ids.add(f.open());
    }
    List<Future<?>> all = new ArrayList<>();
    for (String id : ids) {
      all.add(f.eb.request(Addresses.CHECKPOINT_APPEND, new AppendRequest(id, chunks(id, 1, 20), null)));
    }
    Future.all(all).await();
    for (String id : ids) {
      assertEquals(20, f.replay(id, 0).chunks().size());
    }
  }

  /** Leases are stamped with Redis TIME: the stored lease is the store's clock, read around the call, plus the duration. */
  @Test
  void leasesRunOnTheStoresClockAndRenewalsKeepJobsAlive() throws InterruptedException {
    long before = storeTime();
    String renewed = f.open();
    assertLeaseIsStoreTimePlus(renewed, LEASE.toMillis(), before);
    String abandoned = f.open();
    before = storeTime();
    f.eb.request(Addresses.CHECKPOINT_LEASE, new LeaseRenewal(List.of(renewed), 60_000)).await();
    assertLeaseIsStoreTimePlus(renewed, 60_000, before);
    // Past the initial lease, and past one lease period of healthy store access since this verticle started.
    Thread.sleep(LEASE.toMillis() + 100);
    assertFalse(f.replay(renewed, 0).orphaned());
    assertTrue(f.replay(abandoned, 0).orphaned(), "its lease ran out by the store's clock");
    f.append(abandoned, List.of(), new StatusEvent(JobState.FAILED, abandoned, 0, null, null));
    assertFalse(f.replay(abandoned, 0).orphaned(), "a finished job is never orphaned");
    assertEquals(ErrorCode.INVALID_REQUEST,
      failure(f.eb.request(Addresses.CHECKPOINT_LEASE, new LeaseRenewal(List.of(renewed), 0))).code());
  }

  private static long storeTime() {
    var time = f.redis("TIME");
    return time.get(0).toLong() * 1000 + time.get(1).toLong() / 1000;
  }

  private static void assertLeaseIsStoreTimePlus(String id, long leaseMs, long before) {
    long stamped = f.redis("HGET", StoreFixture.meta(id), "lease").toLong() - leaseMs;
    long after = storeTime();
    assertTrue(stamped >= before && stamped <= after, "lease - " + leaseMs + " = " + stamped + ", TIME " + before + ".." + after);
  }
}
