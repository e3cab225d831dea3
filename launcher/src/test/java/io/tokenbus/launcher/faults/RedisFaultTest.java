package io.tokenbus.launcher.faults;

import io.tokenbus.testing.RedisProcess;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import io.tokenbus.launcher.faults.JobFollower.Options;
import io.tokenbus.launcher.faults.Workload.Mix;
import io.vertx.core.json.JsonObject;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;

/**
 * The checkpoint store's Redis misbehaving under a running cluster (checkpoint, worker and gateway JVMs, Hazelcast on
 * 127.0.0.1) with real clients: half follow over SSE, half over the bridge, each resuming on its own with its last
 * contiguous sequence. Redis persists with AOF ({@code appendfsync everysec}) so that it can come back with its data
 * or, wiped, without. The local generator streams 20 tokens/s × 200 tokens (10 s a job); leases are 4 s, so any
 * outage longer than that would look like dead workers to a store that cannot tell an outage from a crash.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class RedisFaultTest extends FaultTestBase {
  private static final Options FOLLOW = Options.defaults().silence(30_000);

  private static TokenbusProcess gateway;

  @BeforeAll
  static void start() throws Exception {
    cluster = new FaultCluster(RedisFaultTest.class, RedisProcess.Persistence.AOF_EVERYSEC, Map.of(
      "TOKENBUS_LOCAL_TOKENS_PER_SECOND", "20",
      "TOKENBUS_LOCAL_MAX_TOKENS", "200",
      "TOKENBUS_WORKER_LEASE_SECONDS", "4"));
    gateway = cluster.launchAll("checkpoint", "worker", "gateway").get(2);
  }

  private List<Integer> ports() {
    return List.of(gateway.port());
  }

  /**
   * Issue: a job whose chunk log is gone (evicted, deleted, lost) must say so, not look empty. After
   * {@code DEL tb:job:{id}:log} of a finished job: {@code GET /chunks?after=0} answers 410 {@code history_lost}; SSE
   * from 0 ends with a clear error (410 or an error event with {@code history_lost}) within 15 s, not a silent stream;
   * {@code job.replay} over the bridge (alone, and after registering) answers {@code err} with failureCode 410.
   * On main: 200 with no chunks and hasMore:true; the SSE stream stays open and silent; the bridge replies with no chunks.
   */
  @Test
  @Order(1)
  @Timeout(120)
  void aDeletedChunkLogIsReportedAsHistoryLost() throws Exception {
    Api.Job job = Api.submit(gateway.port(), "history that will be deleted");
    JobFollower first = SseFollower.follow(job, ports(), FOLLOW);
    followers.add(first);
    Verdict.await(followers, 40_000);
    Verdict.assertAllCompleted("the job before its log is deleted", followers);
    assertEquals(1L, cluster.redis().cli("DEL", "tb:job:{" + job.jobId() + "}:log"), "the log key existed");

    HttpResponse<String> chunks = Api.chunks(gateway.port(), job, 0);
    JobFollower sse = SseFollower.follow(job, ports(), Options.defaults().silence(5_000));
    JobFollower bridge = BridgeFollower.follow(job, ports(), Options.defaults().silence(5_000));
    followers.addAll(List.of(sse, bridge));
    JsonObject replay = BridgeFollower.request(gateway.port(), "job.replay",
      new JsonObject().put("jobId", job.jobId()).put("token", job.token()).put("afterSequence", 0), Duration.ofSeconds(10));
    Verdict.await(List.of(sse, bridge), 15_000);
    assertAll(
      () -> assertEquals("410 history_lost", chunks.statusCode() + " " + errorOf(chunks.body()),
        "GET /chunks?after=0 answered " + chunks.statusCode() + " " + abbreviate(chunks.body())),
      () -> assertEquals("history_lost", endCode(sse.log()), "SSE from 0: " + sse.log().summary()),
      () -> assertNotNull(replay, "job.replay got no answer in 10 s"),
      () -> assertEquals("err 410", replay.getString("type") + " " + replay.getValue("failureCode"),
        "job.replay answered " + abbreviate(String.valueOf(replay))),
      () -> assertEquals("history_lost", endCode(bridge.log()), "bridge register + replay: " + bridge.log().summary()));
  }

  /**
   * Issue: a Redis that stops answering for 5 s (SIGSTOP: connections open, nothing answered) is an outage the system
   * rides out: 100 jobs all complete and each of their clients gets chunks 1..lastSequence exactly once, the terminal
   * after them, and the store holds exactly what clients got.
   * On main: 94 of 100 clients got job:failed worker_lost right after SIGCONT (lapsed 4 s leases judged as dead workers).
   */
  @Test
  @Order(2)
  @Timeout(120)
  void everyJobCompletesExactlyThroughAFiveSecondRedisFreeze() throws Exception {
    rideOutFreeze(100, 5_000);
  }

  /**
   * Issue: the same with a 20 s freeze (longer than the 2 s per-command deadline and the 4 s leases, shorter than
   * the 60 s outage budget): 40 jobs all complete exactly.
   * On main: 40 of 40 clients got job:failed worker_lost right after SIGCONT.
   */
  @Test
  @Order(3)
  @Timeout(150)
  void everyJobCompletesExactlyThroughATwentySecondRedisFreeze() throws Exception {
    rideOutFreeze(40, 20_000);
  }

  private void rideOutFreeze(int jobs, long pauseMs) throws Exception {
    follow(Workload.submitAndFollow(jobs, gateway.port(), ports(), Mix.HALF_AND_HALF, FOLLOW, "freeze " + pauseMs));
    Workload.awaitChunks(followers, 10, 20_000, "before the freeze");
    Timeline.mark("redis SIGSTOP for " + pauseMs + " ms");
    cluster.redis().pause();
    try {
      Thread.sleep(pauseMs);
    } finally {
      cluster.redis().resume();
      Timeline.mark("redis SIGCONT");
    }
    Timeline.mark("all ended after " + Verdict.await(followers, 70_000) + " ms");
    Verdict.assertAllCompleted("after a " + pauseMs + " ms Redis freeze, " + cluster.describe(), followers);
    Workload.assertStoreHoldsWhatClientsGot(gateway.port(), followers);
  }

  /**
   * Issue: Redis shut down gracefully (AOF flushed) and started again on the same port with its AOF, mid-stream,
   * about 2 s later: the store reconnects, reloads its scripts and every job completes exactly; nothing a client
   * received (so nothing the store acknowledged) is missing from the store afterwards.
   * On main: 50 of 50 clients got job:failed checkpoint_failed while Redis was down (write retries give up in ~1.5 s).
   */
  @Test
  @Order(4)
  @Timeout(120)
  void everyJobCompletesExactlyAcrossARedisRestartFromItsAof() throws Exception {
    follow(Workload.submitAndFollow(50, gateway.port(), ports(), Mix.HALF_AND_HALF, FOLLOW, "aof restart"));
    Workload.awaitChunks(followers, 10, 20_000, "before the restart");
    Timeline.mark("redis SHUTDOWN");
    cluster.redis().shutdown();
    Thread.sleep(2_000);
    cluster.redis().restart(true);
    Timeline.mark("redis restarted with its AOF");
    Timeline.mark("all ended after " + Verdict.await(followers, 60_000) + " ms");
    Verdict.assertAllCompleted("across a Redis restart with AOF, " + cluster.describe(), followers);
    Workload.assertStoreHoldsWhatClientsGot(gateway.port(), followers);
  }

  /**
   * Issue: Redis killed and started again EMPTY mid-stream: the chunks are gone, and every client must learn it with
   * {@code history_lost} (job:failed with that error.code, or an SSE/bridge error with it, e.g. 410 on resuming)
   * within 60 s: never a hang, never a duplicate, never a job:completed whose chunks it did not all get.
   * On main: 40 of 40 clients got job:failed checkpoint_failed, no history_lost anywhere.
   */
  @Test
  @Order(5)
  @Timeout(120)
  void aRedisRestartedEmptyEndsEveryStreamWithHistoryLost() throws Exception {
    follow(Workload.submitAndFollow(40, gateway.port(), ports(), Mix.HALF_AND_HALF, FOLLOW, "empty restart"));
    Workload.awaitChunks(followers, 10, 20_000, "before the restart");
    Timeline.mark("redis SIGKILL");
    cluster.redis().kill();
    Thread.sleep(1_000);
    cluster.redis().restart(false);
    Timeline.mark("redis restarted empty");
    Timeline.mark("all ended after " + Verdict.await(followers, 60_000) + " ms");
    Verdict.assertExactOrCode("after Redis came back empty, " + cluster.describe(), followers, Verdict.HISTORY_LOST);
  }

  /** The code a client ended with: its final error, else its terminal's error.code, else the terminal's type. */
  private static String endCode(StreamLog log) {
    if (log.errorCode() != null) {
      return log.errorCode();
    }
    if (log.terminal() == null) {
      return "no end within the deadline";
    }
    String code = StreamLog.errorCodeOf(log.terminal());
    return code != null ? code : log.terminal().getString("type");
  }

  private static String errorOf(String body) {
    try {
      return new JsonObject(body).getString("error");
    } catch (RuntimeException e) {
      return body;
    }
  }

  private static String abbreviate(String s) {
    return s.length() > 300 ? s.substring(0, 300) + "..." : s;
  }
}
