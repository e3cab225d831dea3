package io.tokenbus.checkpoint;

import io.tokenbus.testing.RedisProcess;

import static io.tokenbus.checkpoint.StoreFixture.chunks;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tokenbus.events.ErrorCode;
import io.tokenbus.events.JobError;
import io.tokenbus.events.TokenbusException;
import io.tokenbus.events.internal.AppendResult;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** A Redis that stops answering (SIGSTOP) or dies (SIGKILL) under a live store, with short configured deadlines. */
class RedisOutageTest {
  private static final Duration TIMEOUT = Duration.ofMillis(300);
  private static final Duration LEASE = Duration.ofMillis(1000);
  private static RedisProcess redis;
  private static StoreFixture f;

  @BeforeAll
  static void start() throws java.io.IOException {
    redis = RedisProcess.start(RedisProcess.Persistence.NONE, java.nio.file.Path.of("target", "redis"));
    f = StoreFixture.start(redis.url(), c -> c.withRedisTimeout(TIMEOUT, Duration.ofMillis(200)).withInitialLease(LEASE));
  }

  @AfterAll
  static void stop() {
    if (f != null) {
      f.close();
    }
    if (redis != null) {
      redis.close();
    }
  }

  @AfterEach
  void storeIsBack() {
    f.verticle.whenStoreUp().await();
  }

  /** The store's readiness check as the management listener calls it (from another thread). */
  private static boolean ready() {
    io.vertx.core.Promise<io.vertx.ext.healthchecks.Status> p = io.vertx.core.Promise.promise();
    f.verticle.readiness(p);
    return p.future().await().isOk();
  }

  private static boolean becomes(boolean state, long withinMs) throws InterruptedException {
    long deadline = System.nanoTime() + withinMs * 1_000_000;
    while (ready() != state) {
      if (System.nanoTime() > deadline) {
        return false;
      }
      Thread.sleep(20); // polling a state, as a probe does
    }
    return true;
  }

  /** Fails with store_unavailable, and says how long it took. */
  private static long unavailableAfterMs(Runnable op) {
    long t0 = System.nanoTime();
    try {
      op.run();
    } catch (TokenbusException | io.vertx.core.eventbus.ReplyException e) {
      assertEquals(ErrorCode.STORE_UNAVAILABLE, TokenbusException.from(e).code(), e.getMessage());
      return (System.nanoTime() - t0) / 1_000_000;
    }
    throw new AssertionError("expected store_unavailable");
  }

  @Test
  void aPausedRedisFailsCommandsWithinTheDeadlineAndIsUsedAgainWhenItAnswers() throws Exception {
    String id = f.open();
    f.append(id, chunks(id, 1, 2), null);
    redis.pause();
    try {
      // The first commands wait for the deadline on connections not yet known dead; once none is up, at once.
      long first = unavailableAfterMs(() -> f.append(id, chunks(id, 3, 3), null));
      assertTrue(first < TIMEOUT.toMillis() * 3, "failed after " + first + " ms");
      long fastest = Long.MAX_VALUE;
      for (int i = 0; i < 3 && fastest > 100; i++) {
        fastest = Math.min(fastest, unavailableAfterMs(() -> f.replay(id, 0)));
      }
      assertTrue(fastest <= 100, "while Redis does not answer, commands fail at once, not after queueing: " + fastest);
    } finally {
      redis.resume();
    }
    f.verticle.whenStoreUp().await();
    AppendResult r = f.append(id, chunks(id, 3, 4), null);
    assertTrue(r.accepted());
    assertEquals(4, r.lastSequence());
    assertEquals(chunks(id, 1, 4), f.replay(id, 0).chunks());
  }

  @Test
  void aKilledRedisIsReconnectedToWhenItIsBackOnItsPort() throws Exception {
    String id = f.open();
    f.append(id, chunks(id, 1, 2), null);
    assertTrue(ready(), "ready while Redis is up");
    redis.kill();
    try {
      assertTrue(unavailableAfterMs(() -> f.replay(id, 0)) < TIMEOUT.toMillis() * 3);
      assertTrue(becomes(false, 3_000), "/health/ready turns down when no Redis connection is up");
    } finally {
      redis.restart(true);
    }
    f.verticle.whenStoreUp().await();
    assertTrue(becomes(true, 3_000), "ready again once Redis is back");
    String fresh = f.open(); // the restarted Redis has no scripts: loaded again on NOSCRIPT
    assertTrue(f.append(fresh, chunks(fresh, 1, 2), null).accepted());
    AppendResult old = f.append(id, chunks(id, 3, 3), null);
    assertFalse(old.accepted(), "Redis came back empty: the job it lost ends as history_lost");
    assertEquals(JobError.HISTORY_LOST, old.terminal().error().code());
    assertEquals(2, old.terminal().lastSequence());
  }

  @Test
  void anExpiredLeaseIsOrphanedOnlyOnceTheStoreWasReachableForALeasePeriod() throws Exception {
    String id = f.open();
    redis.pause();
    try {
      unavailableAfterMs(() -> f.replay(id, 0));
      Thread.sleep(LEASE.toMillis()); // the outage outlasts the lease: no worker could renew it meanwhile
    } finally {
      redis.resume();
    }
    f.verticle.whenStoreUp().await();
    long up = System.nanoTime();
    assertFalse(f.replay(id, 0).orphaned(), "the lease ran out during an outage: not a dead worker (yet)");
    Thread.sleep(LEASE.toMillis() + 50 - (System.nanoTime() - up) / 1_000_000);
    assertTrue(f.replay(id, 0).orphaned(), "a whole lease period later, nobody renewed it: the worker is gone");
  }
}
