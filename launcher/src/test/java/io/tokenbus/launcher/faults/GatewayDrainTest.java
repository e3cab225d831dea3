package io.tokenbus.launcher.faults;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tokenbus.launcher.faults.JobFollower.Options;
import io.tokenbus.launcher.faults.Workload.Mix;
import io.tokenbus.testing.RedisProcess;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A rolling update of the gateways (issue 8, section 2): gateway A gets SIGTERM while 30 SSE and bridge clients
 * follow running jobs through it (10 tokens/s × 200 tokens: 20 s a job). Clients know A then B, as a client behind a
 * load balancer would reach B by connecting again.
 *
 * <p>Before (GatewayVerticle.stop() = server.close(), run on this test): readiness never answered 503, and 30 of 30
 * clients were cut rather than told: SSE bodies broke mid-chunked-encoding ({@code IOException: chunked transfer
 * encoding, state: READING_LENGTH}), bridge sockets closed 1000 with no reason and no {@code err}. They still resumed
 * exactly on B, by their own retries.
 */
class GatewayDrainTest extends FaultTestBase {
  private static final long DEADLINE_MS = 20_000;
  private static final long SPREAD_MS = 2_000;

  private static TokenbusProcess a;
  private static TokenbusProcess b;

  @BeforeAll
  static void start() throws Exception {
    cluster = new FaultCluster(GatewayDrainTest.class, RedisProcess.Persistence.NONE, Map.of(
      "TOKENBUS_LOCAL_TOKENS_PER_SECOND", "10",
      "TOKENBUS_LOCAL_MAX_TOKENS", "200",
      "TOKENBUS_GATEWAY_DRAIN_SECONDS", String.valueOf(DEADLINE_MS / 1000),
      "TOKENBUS_GATEWAY_DRAIN_SPREAD_MS", String.valueOf(SPREAD_MS)));
    List<TokenbusProcess> ps = cluster.launchAll("checkpoint", "worker", "gateway", "gateway");
    a = ps.get(2);
    b = ps.get(3);
  }

  /**
   * A's clients are told to leave (SSE: a final {@code retry:} and a clean end; bridge: {@code err} 503
   * {@code draining}, then close 1001) spread over the window, and resume on B with every chunk exactly once; A is
   * not ready from the start of its drain, refuses connections (jobs followed meanwhile via A then B all stream from
   * B), and its process is gone before the drain deadline.
   */
  @Test
  @Timeout(170)
  void aGatewayStoppedBySigtermSendsItsClientsToAnotherAndExits() throws Exception {
    List<Integer> viaA = List.of(a.port(), b.port());
    List<JobFollower> onA = Workload.submitAndFollow(30, a.port(), viaA, Mix.HALF_AND_HALF, Options.defaults(), "on A");
    followers.addAll(onA);
    Workload.awaitChunks(onA, 5, 30_000, "before the drain");
    List<JobFollower> midStream = onA.stream().filter(f -> !f.log().done().isDone()).toList();
    // Submitted now (on B), followed once A drains: their first connection is one A must not take.
    List<Api.Job> later = new ArrayList<>();
    for (int i = 0; i < 6; i++) {
      later.add(Api.submit(b.port(), "followed while A drains #" + i));
    }

    Timeline.mark("gateway A SIGTERM; " + midStream.size() + " of its " + onA.size() + " clients are mid-stream");
    long termAt = System.nanoTime();
    CompletableFuture<Long> exited = CompletableFuture.supplyAsync(() -> {
      a.term(); // returns when the process is gone (SIGKILL after 20 s)
      return (System.nanoTime() - termAt) / 1_000_000;
    });
    boolean notReady = awaitNotReady(a.managementPort(), exited);
    Timeline.mark("gateway A reported not ready: " + notReady);
    List<JobFollower> during = new ArrayList<>();
    for (int i = 0; i < later.size(); i++) {
      during.add(i % 2 == 0 ? SseFollower.follow(later.get(i), viaA, Options.defaults())
        : BridgeFollower.follow(later.get(i), viaA, Options.defaults()));
    }
    followers.addAll(during);
    long exitMs = exited.get(60, java.util.concurrent.TimeUnit.SECONDS);
    Timeline.mark("gateway A exited " + exitMs + " ms after SIGTERM");
    Timeline.mark("all ended after " + Verdict.await(followers, 60_000) + " ms");

    String portA = "port " + a.port();
    List<String> unclean = new ArrayList<>();
    for (JobFollower f : midStream) {
      List<String> errors = f.log().transientErrors().stream().filter(e -> e.contains(portA)).toList();
      boolean told = f instanceof SseFollower
        ? errors.stream().anyMatch(e -> e.contains("ended cleanly after retry: "))
        : f.log().transientErrors().stream().anyMatch(e -> e.contains("\"failureCode\":503") && e.contains("draining"))
          && errors.stream().anyMatch(e -> e.contains("closed 1001 draining"));
      // An established stream or socket on A that broke (a refused reconnect to A afterwards is expected).
      boolean cut = errors.stream().anyMatch(e -> e.contains("stream from " + portA + " failed")
        || e.contains("websocket on " + portA + " failed"));
      if (!told || cut) {
        unclean.add(f.log().label() + ": " + f.log().transientErrors());
      }
    }
    assertAll(
      () -> assertTrue(notReady, "A's /health/ready never answered 503 while it drained"),
      () -> assertTrue(exitMs < DEADLINE_MS, "A took " + exitMs + " ms to exit; its drain deadline is " + DEADLINE_MS + " ms"),
      () -> assertTrue(unclean.isEmpty(), unclean.size() + " of " + midStream.size()
        + " clients of A were not told to reconnect (or were cut): " + unclean.subList(0, Math.min(4, unclean.size()))),
      () -> Verdict.assertAllCompleted("clients of the draining gateway A, " + cluster.describe(), onA),
      () -> Verdict.assertAllCompleted("jobs followed via A then B while A drained", during));
  }

  /** Polls A's readiness until it answers 503 (true) or A is gone (false). */
  private static boolean awaitNotReady(int port, CompletableFuture<Long> exited) throws InterruptedException {
    HttpClient http = HttpClient.newHttpClient();
    while (!exited.isDone()) {
      try {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/health/ready"))
          .timeout(Duration.ofSeconds(2)).build(), HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() == 503 && r.body().contains("draining")) {
          return true;
        }
      } catch (java.io.IOException gone) {
        // the management listener closes with the process
      }
      Thread.sleep(50); // polling a probe: there is no event to await
    }
    return false;
  }
}
