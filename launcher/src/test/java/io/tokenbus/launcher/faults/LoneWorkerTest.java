package io.tokenbus.launcher.faults;

import io.tokenbus.launcher.faults.JobFollower.Options;
import io.tokenbus.launcher.faults.Workload.Mix;
import io.tokenbus.testing.RedisProcess;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;

/**
 * A deployment whose only worker goes away for a while: its jobs wait for a worker (the gateway's worker wait,
 * {@code TOKENBUS_WORKER_WAIT_SECONDS}) instead of ending {@code worker_lost}, and every client gets every chunk once
 * and {@code job:completed}. Failed before (both tests): every job ended worker_lost once the gateway had looked for a
 * worker for ~3 s (and, in the second, its requests to the frozen worker had timed out four times).
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class LoneWorkerTest extends FaultTestBase {
  private static TokenbusProcess worker;
  private static TokenbusProcess gateway;

  @BeforeAll
  static void start() throws Exception {
    cluster = new FaultCluster(LoneWorkerTest.class, RedisProcess.Persistence.NONE, Map.of(
      "TOKENBUS_LOCAL_TOKENS_PER_SECOND", "20",
      "TOKENBUS_LOCAL_MAX_TOKENS", "500",
      "TOKENBUS_WORKER_LEASE_SECONDS", "2",
      // Above the default (30 s): an evicted member merges back 5-18 s after it thaws, on a slow CI machine later.
      "TOKENBUS_WORKER_WAIT_SECONDS", "60"));
    List<TokenbusProcess> ps = cluster.launchAll("checkpoint", "worker", "gateway");
    worker = ps.get(1);
    gateway = ps.get(2);
  }

  @Override
  protected void beforeClosingFollowers() throws Exception {
    worker.resume();
  }

  /** A crash of the only worker (a pod restarted by Kubernetes): its jobs continue on the worker that replaces it. */
  @Test
  @Order(1)
  @Timeout(240)
  void theJobsOfTheOnlyWorkerContinueOnTheWorkerStartedAfterIt() throws Exception {
    List<JobFollower> jobs = follow(Workload.submitAndFollow(20, gateway.port(), List.of(gateway.port()), Mix.HALF_AND_HALF,
      Options.defaults(), "restart"));
    Workload.awaitChunks(jobs, 20, 60_000, "before the kill");
    Timeline.mark("the only worker SIGKILL");
    worker.kill();
    RedisProcess.sleep(10_000); // the fault itself: a replacement takes this long at least (scheduling, JVM start)
    worker = cluster.launch("worker");
    Timeline.mark("a new worker runs");
    Timeline.mark("all ended after " + Verdict.await(jobs, 120_000) + " ms");
    Verdict.assertAllCompleted("across a restart of the only worker, " + cluster.describe(), jobs);
    Workload.assertStoreHoldsWhatClientsGot(gateway.port(), jobs);
  }

  /**
   * The only worker frozen (a stopped VM, a long GC pause) past the cluster's failure detection (10 s) is evicted; when it thaws it is alone in a
   * cluster of its own until the split-brain merge. Its jobs wait for it and go on where they stopped. (The same end
   * as every worker evicted at once, which a CI run once saw: all jobs had ended worker_lost.)
   */
  @Test
  @Order(2)
  @Timeout(240)
  void theJobsOfTheOnlyWorkerGoOnWhenItComesBackAfterAnEviction() throws Exception {
    List<JobFollower> jobs = follow(Workload.submitAndFollow(20, gateway.port(), List.of(gateway.port()), Mix.HALF_AND_HALF,
      Options.defaults(), "eviction"));
    Workload.awaitChunks(jobs, 20, 60_000, "before the freeze");
    Timeline.mark("the only worker SIGSTOP");
    worker.pause();
    // The fault itself: frozen past the 10 s failure detection (so it is evicted) and past what the gateway's takeover
    // requests to it took before the worker wait (4 timeouts of 5 s).
    RedisProcess.sleep(25_000);
    Timeline.mark("worker SIGCONT");
    worker.resume();
    Timeline.mark("all ended after " + Verdict.await(jobs, 150_000) + " ms");
    Verdict.assertAllCompleted("across an eviction of the only worker, " + cluster.describe(), jobs);
    Workload.assertStoreHoldsWhatClientsGot(gateway.port(), jobs);
  }
}
