package io.tokenbus.checkpoint;

import static io.tokenbus.checkpoint.StoreFixture.chunks;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tokenbus.events.JobState;
import io.tokenbus.events.StatusEvent;
import io.tokenbus.events.internal.AppendResult;
import io.tokenbus.events.internal.JobSnapshot;
import io.tokenbus.testing.RedisClusterProcess;
import io.tokenbus.testing.RedisProcess;
import io.vertx.core.Future;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The store on a real 3-master Redis Cluster (TOKENBUS_REDIS_MODE=cluster): jobs land on every node, each job's keys
 * in one slot, commands routed per key; streaming, terminals and replays are exact. Needs redis-cli (redis-tools).
 */
class RedisClusterTest {
  private static RedisClusterProcess cluster;
  private static StoreFixture f;

  @BeforeAll
  static void start() throws Exception {
    cluster = RedisClusterProcess.start(3, Path.of("target", "redis-cluster"));
    f = StoreFixture.start(CheckpointConfig.defaults("redis://unused").withRedis(CheckpointConfig.RedisMode.CLUSTER,
      cluster.urls(), null).withRedisTimeout(java.time.Duration.ofSeconds(5), java.time.Duration.ofMillis(500)), null);
  }

  @AfterAll
  static void stop() {
    if (f != null) {
      f.close();
    }
    if (cluster != null) {
      cluster.close();
    }
  }

  @Test
  void jobsSpreadOverAllSlotsStreamAndReplayExactly() throws Exception {
    int jobs = 300;
    int rounds = 20;
    List<String> ids = new ArrayList<>();
    List<Future<String>> opened = new ArrayList<>();
    for (int i = 0; i < jobs; i++) {
      String id = f.newId();
      ids.add(id);
      opened.add(f.eb.request(io.tokenbus.events.Addresses.CHECKPOINT_OPEN,
        new io.tokenbus.events.internal.JobAssignment(id, io.tokenbus.events.JobRequest.ask("p"), 42)).map(id));
    }
    Future.all(opened).await();
    Set<Long> slots = new HashSet<>();
    for (RedisProcess n : cluster.nodes()) {
      assertTrue((Long) n.cli("DBSIZE") > jobs / 10, "every master holds jobs: " + n.port() + " has " + n.cli("DBSIZE"));
    }
    for (String id : ids) {
      slots.add((Long) cluster.nodes().get(0).cli("CLUSTER", "KEYSLOT", StoreFixture.meta(id)));
    }
    assertTrue(slots.size() > jobs * 9 / 10, "jobs spread over many slots: " + slots.size());

    // each round: every job appends at once (one pipelined turn on the store), some chunks in twos
    long seq = 0;
    for (int r = 0; r < rounds; r++) {
      long from = seq + 1;
      long to = r % 3 == 0 ? seq + 2 : seq + 1;
      List<Future<AppendResult>> all = new ArrayList<>();
      for (String id : ids) {
        all.add(f.appendAsync(id, chunks(id, from, to), null));
      }
      Future.all(all).await();
      for (Future<AppendResult> a : all) {
        assertTrue(a.result().accepted());
        assertEquals(to, a.result().lastSequence());
      }
      seq = to;
    }
    long last = seq;
    List<Future<AppendResult>> ends = new ArrayList<>();
    for (String id : ids) {
      ends.add(f.appendAsync(id, List.of(), new StatusEvent(JobState.COMPLETED, id, last, "r", null)));
    }
    Future.all(ends).await();
    List<Future<JobSnapshot>> replays = new ArrayList<>();
    for (String id : ids) {
      replays.add(f.replayAsync(id, 0));
    }
    Future.all(replays).await();
    for (int i = 0; i < jobs; i++) {
      JobSnapshot s = replays.get(i).result();
      assertEquals(chunks(ids.get(i), 1, last), s.chunks());
      assertEquals(JobState.COMPLETED, s.state());
      assertEquals(last, s.terminal().lastSequence());
      assertFalse(s.hasMore());
    }
    String some = ids.get(7);
    assertEquals(chunks(some, 6, last), f.replay(some, 5).chunks());
  }

  @Test
  void nodesThatLostTheirScriptsGetThemBackThroughEval() throws Exception {
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < 30; i++) {
      String id = f.open();
      f.append(id, chunks(id, 1, 2), null);
      ids.add(id);
    }
    for (RedisProcess n : cluster.nodes()) {
      n.cli("SCRIPT", "FLUSH");
    }
    List<Future<AppendResult>> all = new ArrayList<>();
    for (String id : ids) {
      all.add(f.appendAsync(id, chunks(id, 3, 4), null));
    }
    Future.all(all).await();
    for (int i = 0; i < ids.size(); i++) {
      assertTrue(all.get(i).result().accepted());
      assertEquals(chunks(ids.get(i), 1, 4), f.replay(ids.get(i), 0).chunks());
    }
  }

  /** A batch of jobs in different slots: on a cluster each job is a script call of its own, on its node. */
  @Test
  void aBatchOfJobsOnDifferentNodesIsTakenWhole() {
    List<io.tokenbus.events.internal.AppendRequest> batch = new ArrayList<>();
    for (int i = 0; i < 40; i++) {
      String id = f.open();
      batch.add(new io.tokenbus.events.internal.AppendRequest(id, chunks(id, 1, 2), null, 1));
    }
    io.tokenbus.events.internal.AppendBatchResult r = f.eb.<io.tokenbus.events.internal.AppendBatchResult>request(
      io.tokenbus.events.Addresses.CHECKPOINT_APPEND_BATCH, new io.tokenbus.events.internal.AppendBatch(batch)).await().body();
    for (int i = 0; i < batch.size(); i++) {
      var o = r.outcomes().get(i);
      assertTrue(o.result() != null && o.result().accepted(), String.valueOf(o.failure()));
      assertEquals(chunks(batch.get(i).jobId(), 1, 2), f.replay(batch.get(i).jobId(), 0).chunks());
    }
  }

  @Test
  void theSettingsCheckRanOnTheCluster() {
    RedisSettings.Verdict v = f.verticle.redisSettings();
    assertEquals("noeviction", v.maxmemoryPolicy());
    assertEquals("no", v.appendonly());
    assertFalse(v.evicts());
  }
}
