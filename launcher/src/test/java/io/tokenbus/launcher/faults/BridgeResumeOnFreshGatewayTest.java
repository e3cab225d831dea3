package io.tokenbus.launcher.faults;

import io.tokenbus.testing.RedisProcess;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.tokenbus.launcher.faults.JobFollower.Options;
import io.tokenbus.launcher.faults.Workload.Mix;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A bridge client resuming on a gateway whose node has never followed its job (issue item 9a). A slow model (2
 * tokens/s × 30 tokens) and gateways that check the store after 100 ms of silence on a followed job
 * ({@code TOKENBUS_IDLE_POLL_MS}): on the new node, the store may well be read for the job before the client's
 * replay is answered.
 */
class BridgeResumeOnFreshGatewayTest extends FaultTestBase {
  private static TokenbusProcess a;
  private static TokenbusProcess b;

  @BeforeAll
  static void start() throws Exception {
    cluster = new FaultCluster(BridgeResumeOnFreshGatewayTest.class, RedisProcess.Persistence.NONE, Map.of(
      "TOKENBUS_LOCAL_TOKENS_PER_SECOND", "2",
      "TOKENBUS_LOCAL_MAX_TOKENS", "30",
      "TOKENBUS_IDLE_POLL_MS", "100"));
    List<TokenbusProcess> ps = cluster.launchAll("checkpoint", "worker", "gateway", "gateway");
    a = ps.get(2);
    b = ps.get(3);
  }

  /**
   * Issue 9a: bridge clients on gateway A have chunks 1..k of their jobs when A is SIGKILLed; each connects to B
   * (which never followed those jobs), registers job.&lt;id&gt;.chunk/.status and, half a second later (any delay is
   * allowed: live frames may precede the reply), replays after k. Four jobs still running must give k+1..last
   * exactly once and job:completed after them; two jobs cancelled while their clients were away (they come back 4 s
   * later) must give k+1..last exactly once and job:cancelled after them.
   * On main: every client (6 of 6) got chunks 1..k again on B (10-17 duplicates each), then the rest.
   */
  @Test
  @Timeout(120)
  void aClientResumingOnANodeThatNeverFollowedTheJobGetsTheRestExactlyOnce() throws Exception {
    Options resume = Options.defaults().silence(20_000).replayDelay(500);
    List<JobFollower> running = Workload.submitAndFollow(4, b.port(), List.of(a.port(), b.port()), Mix.BRIDGE, resume, "running");
    followers.addAll(running);
    List<JobFollower> cancelled = Workload.submitAndFollow(2, b.port(), List.of(a.port(), b.port()), Mix.BRIDGE,
      resume.reconnectDelay(4_000), "cancelled while away");
    followers.addAll(cancelled);
    Workload.awaitChunks(followers, 3, 20_000, "on gateway A");
    Timeline.mark("gateway A SIGKILL");
    a.kill();
    for (JobFollower f : cancelled) {
      assertEquals(202, Api.cancel(b.port(), f.job()).statusCode(), "cancel " + f.job());
    }
    Timeline.mark("cancelled " + cancelled.size() + " jobs");
    Timeline.mark("all ended after " + Verdict.await(followers, 60_000) + " ms");
    assertAll(
      () -> Verdict.assertAllCompleted("running jobs resumed on B, " + cluster.describe(), running),
      () -> Verdict.assertExact("jobs cancelled while their clients were away", cancelled, Set.of("job:cancelled")));
  }
}
