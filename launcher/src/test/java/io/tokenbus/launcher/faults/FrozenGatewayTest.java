package io.tokenbus.launcher.faults;

import io.tokenbus.testing.RedisProcess;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tokenbus.launcher.faults.JobFollower.Options;
import io.tokenbus.launcher.faults.Workload.Mix;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A gateway JVM frozen (SIGSTOP) for 10 s while it serves streams: it stays a Hazelcast member and keeps its sockets,
 * but answers nothing. Two gateways A and B; local generator 10 tokens/s × 300 tokens (30 s a job). Clients give up
 * a connection silent for 3 s and go to the other gateway with their last contiguous sequence.
 */
class FrozenGatewayTest extends FaultTestBase {
  private static final Options FAILOVER = Options.defaults().silence(3_000);

  private static TokenbusProcess a;
  private static TokenbusProcess b;

  @BeforeAll
  static void start() throws Exception {
    cluster = new FaultCluster(FrozenGatewayTest.class, RedisProcess.Persistence.NONE, Map.of(
      "TOKENBUS_LOCAL_TOKENS_PER_SECOND", "10",
      "TOKENBUS_LOCAL_MAX_TOKENS", "300",
      "TOKENBUS_WORKER_LEASE_SECONDS", "6"));
    List<TokenbusProcess> ps = cluster.launchAll("checkpoint", "worker", "gateway", "gateway");
    a = ps.get(2);
    b = ps.get(3);
  }

  @Override
  protected void beforeClosingFollowers() throws Exception {
    if (a.paused()) {
      a.resume();
    }
  }

  /**
   * Issue: a frozen node must not stall the healthy ones. 40 jobs are followed on A and 40 on B (half SSE, half
   * bridge); A is frozen for 10 s. Jobs submitted and followed on B 2 s into the freeze are answered within 2 s and
   * get their first chunk within 2 s of being followed; A's clients, after 3 s of silence, resume on B within 3 s
   * (Last-Event-ID / job.replay); after SIGCONT, jobs followed on A stream again; every client of every job gets
   * 1..lastSequence exactly once and job:completed after them.
   * On main: 5/10 new jobs' first chunk came after SIGCONT (~11.5 s); A's 20 SSE clients resumed only after ~11 s; its 20 bridge clients got 1..k again on B.
   */
  @Test
  @Timeout(170)
  void aFrozenGatewayStallsNothingElseAndItsClientsResumeElsewhere() throws Exception {
    List<Integer> viaA = List.of(a.port(), b.port());
    List<Integer> viaB = List.of(b.port(), a.port());
    List<JobFollower> onA = Workload.submitAndFollow(40, a.port(), viaA, Mix.HALF_AND_HALF, FAILOVER, "on A");
    followers.addAll(onA);
    List<JobFollower> onB = Workload.submitAndFollow(40, b.port(), viaB, Mix.HALF_AND_HALF, FAILOVER, "on B");
    followers.addAll(onB);
    Workload.awaitChunks(followers, 5, 30_000, "before the freeze");

    List<JobFollower> midStreamOnA = onA.stream().filter(f -> !f.log().done().isDone()).toList();
    Timeline.mark("gateway A SIGSTOP; " + midStreamOnA.size() + " of its " + onA.size() + " clients are mid-stream");
    long frozenAt = System.nanoTime();
    a.pause();
    Thread.sleep(2_000);
    List<JobFollower> fresh = Workload.submitAndFollow(10, b.port(), viaB, Mix.HALF_AND_HALF, FAILOVER, "during the freeze");
    followers.addAll(fresh);
    Thread.sleep(Math.max(0, 10_000 - (System.nanoTime() - frozenAt) / 1_000_000));
    a.resume();
    Timeline.mark("gateway A SIGCONT");
    // Evicted while frozen, A first merges back into the cluster; its readiness says when (as a load balancer sees).
    Timeline.mark("gateway A ready again after " + awaitReady(a.managementPort(), 60_000) + " ms");
    // Ready must mean it takes submissions: it said ready while alone in a cluster of its own (before its merge), saw
    // the store but no worker, and answered 503 no_worker for another 6.5 s.
    Timeline.mark("gateway A takes submissions " + awaitSubmissions(a.port(), 0) + " ms after it is ready; "
      + clusterCheck(a.managementPort()));
    List<JobFollower> afterwards = Workload.submitAndFollow(6, a.port(), viaA, Mix.HALF_AND_HALF, FAILOVER, "after the freeze");
    followers.addAll(afterwards);
    Timeline.mark("all ended after " + Verdict.await(followers, 60_000) + " ms");

    List<String> slowStarts = new ArrayList<>();
    for (JobFollower f : fresh) {
      StreamLog l = f.log();
      if (l.submitMillis() > 2_000 || l.firstChunkMillis() < 0 || l.firstChunkMillis() > 2_000) {
        slowStarts.add(l.job() + ": submit " + l.submitMillis() + " ms, first chunk " + l.firstChunkMillis() + " ms after following");
      }
    }
    List<String> slowResumes = new ArrayList<>();
    for (JobFollower f : midStreamOnA) {
      List<Long> resumes = f.log().resumeMillis();
      if (resumes.isEmpty() || Verdict.max(resumes) > 3_000) {
        slowResumes.add("resumed after " + resumes + " ms: " + f.log().summary());
      }
    }
    assertAll(
      () -> assertTrue(slowStarts.isEmpty(), slowStarts.size() + " of " + fresh.size()
        + " jobs submitted on B during the freeze were slow to start: " + slowStarts),
      () -> assertTrue(slowResumes.isEmpty(), slowResumes.size() + " of " + midStreamOnA.size()
        + " clients of the frozen gateway did not resume on B within 3 s: " + first(slowResumes)),
      () -> Verdict.assertAllCompleted("clients of the frozen gateway A, " + cluster.describe(), onA),
      () -> Verdict.assertAllCompleted("clients of B", onB),
      () -> Verdict.assertAllCompleted("jobs started on B during the freeze", fresh),
      () -> Verdict.assertAllCompleted("jobs followed on A after SIGCONT", afterwards));
  }

  private static long awaitReady(int port, long timeoutMs) throws Exception {
    long start = System.nanoTime();
    java.net.http.HttpClient http = java.net.http.HttpClient.newHttpClient();
    while (true) {
      long elapsed = (System.nanoTime() - start) / 1_000_000;
      try {
        if (http.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create("http://127.0.0.1:" + port + "/health/ready"))
          .timeout(java.time.Duration.ofSeconds(2)).build(), java.net.http.HttpResponse.BodyHandlers.discarding()).statusCode() == 200) {
          return elapsed;
        }
      } catch (java.io.IOException notYet) {
        // the probe itself may time out while the node rejoins
      }
      assertTrue(elapsed < timeoutMs, "gateway on " + port + " not ready within " + timeoutMs + " ms");
      Thread.sleep(200); // polling a probe: there is no event to await
    }
  }

  /**
   * Milliseconds until a submission on {@code port} is taken: 503 (no_worker) is tried again until {@code timeoutMs},
   * anything else fails. The gateway itself waits ~3 s for a worker's registration before it answers no_worker.
   */
  private static long awaitSubmissions(int port, long timeoutMs) throws Exception {
    long start = System.nanoTime();
    while (true) {
      long elapsed = (System.nanoTime() - start) / 1_000_000;
      try {
        Api.submit(port, "is a worker reachable from here");
        return elapsed;
      } catch (java.io.IOException e) {
        assertTrue(String.valueOf(e.getMessage()).contains("answered 503"), "submission on " + port + ": " + e.getMessage());
        assertTrue(elapsed < timeoutMs, "gateway on " + port + " still refuses submissions after " + timeoutMs + " ms: " + e.getMessage());
      }
      Thread.sleep(200); // polling the API: there is no event to await
    }
  }

  /** The readiness check that keeps a gateway alone in its cluster (evicted, not merged back) out of rotation. */
  private static String clusterCheck(int port) throws Exception {
    String body = java.net.http.HttpClient.newHttpClient().send(java.net.http.HttpRequest.newBuilder(
        java.net.URI.create("http://127.0.0.1:" + port + "/health/ready")).timeout(java.time.Duration.ofSeconds(5)).build(),
      java.net.http.HttpResponse.BodyHandlers.ofString()).body();
    io.vertx.core.json.JsonObject check = new io.vertx.core.json.JsonObject(body).getJsonArray("checks").stream()
      .map(c -> (io.vertx.core.json.JsonObject) c).filter(c -> "cluster".equals(c.getString("id"))).findFirst()
      .orElseThrow(() -> new AssertionError("no cluster check in the gateway's readiness: " + body));
    assertTrue("UP".equals(check.getString("status")) && check.getJsonObject("data").getInteger("members") >= 2, body);
    return "cluster check " + check.encode();
  }

  private static List<String> first(List<String> l) {
    return l.subList(0, Math.min(6, l.size()));
  }
}
