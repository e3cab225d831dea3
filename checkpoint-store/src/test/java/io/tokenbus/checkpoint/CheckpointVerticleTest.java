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
import io.tokenbus.events.internal.JobClaim;
import io.tokenbus.events.internal.JobSnapshot;
import io.tokenbus.events.internal.LeaseRenewal;
import io.tokenbus.events.internal.ReplayRequest;
import io.vertx.core.Future;
import io.vertx.ext.healthchecks.Status;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Against a real Redis, through the event bus, as workers and gateways use it. */
class CheckpointVerticleTest {
  private static final Duration LEASE = Duration.ofMillis(400);
  private static StoreFixture f;

  @BeforeAll
  static void start() {
    f = StoreFixture.onOwnRedis(c -> c.withRetention(Duration.ofSeconds(600)).withMaxReplayChunks(50)
      .withInitialLease(LEASE));
  }

  @AfterAll
  static void stop() {
    f.close();
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
    f.eb.request(Addresses.CHECKPOINT_LEASE, new LeaseRenewal(List.of(renewed), List.of(1L), 60_000)).await();
    assertLeaseIsStoreTimePlus(renewed, 60_000, before);
    // Past the initial lease, and past one lease period of healthy store access since this verticle started.
    Thread.sleep(LEASE.toMillis() + 100);
    assertFalse(f.replay(renewed, 0).orphaned());
    assertTrue(f.replay(abandoned, 0).orphaned(), "its lease ran out by the store's clock");
    f.append(abandoned, List.of(), new StatusEvent(JobState.FAILED, abandoned, 0, null, null));
    assertFalse(f.replay(abandoned, 0).orphaned(), "a finished job is never orphaned");
    assertEquals(ErrorCode.INVALID_REQUEST,
      failure(f.eb.request(Addresses.CHECKPOINT_LEASE, new LeaseRenewal(List.of(renewed), List.of(1L), 0))).code());
  }

  /**
   * A takeover: a claim only wins once the lease ran out, exactly one claimer wins, and from then on the old owner's
   * writes and renewals are refused (fencing), while the new owner continues the same dense log.
   */
  @Test
  void aClaimAfterTheLeaseRanOutFencesTheOldOwner() throws InterruptedException {
    String id = f.open();
    assertTrue(appendAs(id, 1, chunks(id, 1, 3)).accepted());
    assertEquals(JobClaim.Outcome.HELD, claim(id, 5).outcome(), "the lease still holds");
    Thread.sleep(LEASE.toMillis() + 100);
    JobClaim.Result won = claim(id, 5);
    assertEquals(JobClaim.Outcome.CLAIMED, won.outcome());
    assertEquals(2, won.epoch());
    assertEquals(3, won.lastSequence());
    assertEquals(id, won.assignment().jobId());
    assertEquals("p", won.assignment().request().prompt());
    assertEquals(JobClaim.Outcome.HELD, claim(id, 5).outcome(), "a second claimer loses: the winner holds the lease");

    AppendResult stale = appendAs(id, 1, chunks(id, 4, 4));
    assertFalse(stale.accepted(), "the old owner is fenced");
    assertEquals(null, stale.terminal(), "and is told nothing to publish");
    LeaseRenewal.Result renewal = f.eb.<LeaseRenewal.Result>request(Addresses.CHECKPOINT_LEASE,
      new LeaseRenewal(List.of(id), List.of(1L), 60_000)).await().body();
    assertEquals(List.of(id), renewal.lost(), "the old owner's renewal says the job moved");
    assertTrue(appendAs(id, 2, chunks(id, 4, 5)).accepted(), "the new owner continues the log");
    assertEquals(5, f.replay(id, 0).lastSequence());
    assertEquals(List.of(), f.eb.<LeaseRenewal.Result>request(Addresses.CHECKPOINT_LEASE,
      new LeaseRenewal(List.of(id), List.of(2L), 300)).await().body().lost());

    Thread.sleep(400);
    assertEquals(JobClaim.Outcome.EXHAUSTED, claim(id, 1).outcome(), "one takeover allowed, one taken");
    assertTrue(f.append(id, List.of(), new StatusEvent(JobState.COMPLETED, id, 5, null, null)).accepted(),
      "an unfenced close is never refused");
    assertEquals(JobClaim.Outcome.CLOSED, claim(id, 5).outcome());
  }

  /** A Redis that answers but refuses writes (here: too few replicas; after a failover: READONLY) is not ready. */
  @Test
  void notReadyWhileRedisRefusesWrites() {
    String id = f.open();
    assertTrue(readiness().isOk());
    f.redis("CONFIG", "SET", "min-replicas-to-write", "1");
    try {
      failure(f.appendAsync(id, chunks(id, 1, 1), null));
      Status refused = readiness();
      assertFalse(refused.isOk());
      assertTrue(refused.getData().getString("reason").contains("NOREPLICAS"), refused.getData().encode());
    } finally {
      f.redis("CONFIG", "SET", "min-replicas-to-write", "0");
    }
    assertTrue(readiness().isOk(), "ready again once Redis takes writes, before any job writes");
  }

  private static Status readiness() {
    io.vertx.core.Promise<Status> p = io.vertx.core.Promise.promise();
    f.verticle.readiness(p);
    return p.future().await();
  }

  private static AppendResult appendAs(String id, long epoch, List<ChunkEvent> chunks) {
    return f.eb.<AppendResult>request(Addresses.CHECKPOINT_APPEND, new AppendRequest(id, chunks, null, epoch)).await().body();
  }

  private static JobClaim.Result claim(String id, int maxTakeovers) {
    return f.eb.<JobClaim.Result>request(Addresses.CHECKPOINT_CLAIM, new JobClaim(id, 300, maxTakeovers)).await().body();
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
