package io.tokenbus.launcher.faults;

import io.tokenbus.testing.RedisProcess;

import io.tokenbus.launcher.faults.JobFollower.Options;
import io.tokenbus.launcher.faults.Workload.Mix;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The checkpoint-store process dies (SIGKILL) under 50 running jobs and a new one is started about 10 s later: an
 * outage of the store service, not of the workers. Local generator 20 tokens/s × 200 tokens, 4 s leases (the
 * outage is longer than a lease: leases cannot be renewed while no store answers).
 */
class CheckpointRestartTest extends FaultTestBase {
  private static TokenbusProcess checkpoint;
  private static TokenbusProcess gateway;

  @BeforeAll
  static void start() throws Exception {
    cluster = new FaultCluster(CheckpointRestartTest.class, RedisProcess.Persistence.NONE, Map.of(
      "TOKENBUS_LOCAL_TOKENS_PER_SECOND", "20",
      "TOKENBUS_LOCAL_MAX_TOKENS", "200",
      "TOKENBUS_WORKER_LEASE_SECONDS", "4"));
    List<TokenbusProcess> ps = cluster.launchAll("checkpoint", "worker", "gateway");
    checkpoint = ps.get(0);
    gateway = ps.get(2);
  }

  /**
   * Issue: workers keep their jobs through a store outage (within TOKENBUS_STORE_OUTAGE_SECONDS, 60 s) and a store
   * that just came back does not take the leases that lapsed meanwhile for dead workers. With 50 jobs streaming (half
   * SSE, half bridge), the checkpoint process is SIGKILLed and a new one started 10 s later: no job ends
   * worker_lost (or otherwise failed); every client gets 1..lastSequence exactly once and job:completed after them;
   * the store holds what they got.
   * On main: 50 of 50 clients got job:failed checkpoint_failed ~11.7 s after the kill, before the new store was up.
   */
  @Test
  @Timeout(170)
  void noJobIsLostWhenTheCheckpointProcessIsKilledAndStartedAgain() throws Exception {
    follow(Workload.submitAndFollow(50, gateway.port(), List.of(gateway.port()), Mix.HALF_AND_HALF,
      Options.defaults().silence(40_000), "checkpoint restart"));
    Workload.awaitChunks(followers, 10, 20_000, "before the kill");
    Timeline.mark("checkpoint SIGKILL");
    checkpoint.kill();
    Thread.sleep(10_000);
    Timeline.mark("starting a new checkpoint process");
    checkpoint = cluster.launch("checkpoint");
    Timeline.mark("new checkpoint process running");
    Timeline.mark("all ended after " + Verdict.await(followers, 80_000) + " ms");
    Verdict.assertAllCompleted("across a checkpoint process restart, " + cluster.describe(), followers);
    Workload.assertStoreHoldsWhatClientsGot(gateway.port(), followers);
  }
}
