package io.tokenbus.launcher.faults;

import io.tokenbus.testing.RedisProcess;

import io.tokenbus.launcher.faults.Workload.Mix;
import io.tokenbus.launcher.faults.JobFollower.Options;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A rolling update of the workers (issue 8, section 2): one of two worker processes gets SIGTERM while 20 jobs stream.
 * Failed before: the worker cancelled its running jobs on stop, so its clients got job:cancelled mid-answer.
 */
class WorkerDrainTest extends FaultTestBase {
  private static TokenbusProcess leaving;
  private static TokenbusProcess gateway;

  @BeforeAll
  static void start() throws Exception {
    cluster = new FaultCluster(WorkerDrainTest.class, RedisProcess.Persistence.NONE, Map.of(
      "TOKENBUS_LOCAL_TOKENS_PER_SECOND", "20",
      "TOKENBUS_LOCAL_MAX_TOKENS", "160",
      "TOKENBUS_DRAIN_SECONDS", "60"));
    List<TokenbusProcess> ps = cluster.launchAll("checkpoint", "worker", "worker", "gateway");
    leaving = ps.get(1);
    gateway = ps.get(3);
  }

  /**
   * Jobs of the stopping worker complete exactly (not cancelled: a deploy is not a cancel), and jobs submitted while it
   * drains all go to the other worker and complete.
   */
  @Test
  @Timeout(170)
  void aWorkerStoppedBySigtermFinishesItsJobsAndTakesNoNewOnes() throws Exception {
    followers.addAll(Workload.submitAndFollow(20, gateway.port(), List.of(gateway.port()), Mix.HALF_AND_HALF,
      Options.defaults(), "before the stop"));
    Workload.awaitChunks(followers, 5, 30_000, "before the stop");
    Timeline.mark("worker SIGTERM");
    Thread draining = new Thread(leaving::term); // returns once the process is gone: after its jobs finished
    draining.start();
    followers.addAll(Workload.submitAndFollow(10, gateway.port(), List.of(gateway.port()), Mix.HALF_AND_HALF,
      Options.defaults(), "while a worker drains"));
    Timeline.mark("all ended after " + Verdict.await(followers, 90_000) + " ms");
    draining.join(60_000);
    Verdict.assertAllCompleted("across a worker's SIGTERM, " + cluster.describe(), followers);
  }
}
