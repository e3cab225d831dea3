package io.tokenbus.checkpoint;

import static io.tokenbus.checkpoint.StoreFixture.chunks;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tokenbus.events.ErrorCode;
import io.tokenbus.events.JobError;
import io.tokenbus.events.JobState;
import io.tokenbus.events.TokenbusException;
import io.tokenbus.events.internal.AppendResult;
import io.tokenbus.events.internal.JobSnapshot;
import io.tokenbus.testing.RedisProcess;
import io.tokenbus.testing.RedisSentinelSetup;
import io.vertx.core.Future;
import io.vertx.core.eventbus.ReplyException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The store on a primary + replica watched by three sentinels (TOKENBUS_REDIS_MODE=sentinel), the primary killed
 * mid-stream. Needs redis-sentinel.
 */
class SentinelFailoverTest {
  private int unavailable;

  @Test
  void aKilledPrimaryFailsOverToTheReplicaAndUnreplicatedChunksSurfaceAsHistoryLost() throws Exception {
    try (RedisSentinelSetup s = RedisSentinelSetup.start(Path.of("target", "redis-sentinel"));
         StoreFixture f = StoreFixture.start(CheckpointConfig.defaults("redis://unused")
           .withRedis(CheckpointConfig.RedisMode.SENTINEL, s.sentinelUrls(), RedisSentinelSetup.MASTER_NAME)
           .withRedisTimeout(Duration.ofMillis(1500), Duration.ofMillis(200)), null)) {
      RedisSettings.Verdict v = f.verticle.redisSettings();
      assertTrue(v.safe(), "noeviction + AOF on the primary: " + v);
      List<String> kept = new ArrayList<>();
      List<String> cut = new ArrayList<>();
      for (int i = 0; i < 10; i++) {
        kept.add(f.open());
        cut.add(f.open());
      }
      List<String> all = new ArrayList<>(kept);
      all.addAll(cut);
      for (long r = 1; r <= 10; r++) {
        appendAll(f, all, r);
      }
      assertEquals(1L, s.primary().cli("WAIT", "1", "5000"), "rounds 1..10 reached the replica");

      // Cut the replica off (stopped, its replication socket closed): what the primary acknowledges from now on
      // exists only there.
      s.replica().pause();
      s.primary().cli("CLIENT", "KILL", "TYPE", "replica");
      s.await("the primary sees no replica", () -> String.valueOf(s.primary().cli("INFO", "replication"))
        .contains("connected_slaves:0"));
      for (long r = 11; r <= 13; r++) {
        appendAll(f, cut, r); // acknowledged, never replicated
      }
      s.primary().kill();
      long killedAt = System.nanoTime();
      s.replica().resume();

      // The writers keep going, retrying while the store answers store_unavailable.
      for (String id : kept) {
        AppendResult r = appendRetrying(f, id, 11);
        assertTrue(r.accepted());
        assertEquals(11, r.lastSequence());
      }
      long switchMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - killedAt);
      int unavailableDuringSwitch = unavailable;
      System.out.printf("failover: appends answered store_unavailable %d times, writes accepted again %d ms after the kill%n",
        unavailableDuringSwitch, switchMs);
      assertTrue(unavailableDuringSwitch > 0, "the switch is visible to callers as store_unavailable");
      assertEquals(s.replica().port(), s.masterPort(), "the sentinels promoted the replica");

      for (long r = 12; r <= 20; r++) {
        appendAll(f, kept, r);
      }
      for (String id : cut) {
        AppendResult r = appendRetrying(f, id, 14);
        assertFalse(r.accepted(), "chunks 11..13 were acknowledged and then lost: no silent hole");
        assertEquals(JobState.FAILED, r.state());
        assertEquals(JobError.HISTORY_LOST, r.terminal().error().code());
        assertEquals(10, r.terminal().lastSequence());
        JobSnapshot snap = f.replay(id, 0);
        assertEquals(JobState.FAILED, snap.state());
        assertEquals(chunks(id, 1, 10), snap.chunks());
      }
      assertEquals(unavailableDuringSwitch, unavailable, "store_unavailable only during the switch");
      for (String id : kept) {
        assertEquals(chunks(id, 1, 20), f.replay(id, 0).chunks(), "kept jobs continue exactly");
      }
    }
  }

  private static void appendAll(StoreFixture f, List<String> ids, long seq) {
    List<Future<AppendResult>> all = new ArrayList<>();
    for (String id : ids) {
      all.add(f.appendAsync(id, chunks(id, seq, seq), null));
    }
    Future.all(all).await();
    for (Future<AppendResult> a : all) {
      assertTrue(a.result().accepted());
      assertEquals(seq, a.result().lastSequence());
    }
  }

  /** As a worker does: the same append again while the store says store_unavailable, for up to 60 s. */
  private AppendResult appendRetrying(StoreFixture f, String id, long seq) {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (true) {
      try {
        return f.append(id, chunks(id, seq, seq), null);
      } catch (ReplyException | TokenbusException e) {
        assertEquals(ErrorCode.STORE_UNAVAILABLE, TokenbusException.from(e).code(), e.getMessage());
        unavailable++;
        assertTrue(System.nanoTime() < deadline, "no failover within 60 s: " + e.getMessage());
        RedisProcess.sleep(100);
      }
    }
  }
}
