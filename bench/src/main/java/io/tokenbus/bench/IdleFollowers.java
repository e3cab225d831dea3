package io.tokenbus.bench;

import io.vertx.core.Future;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

/**
 * Memory per idle follower: submits {@code --streams} jobs that produce nothing for the whole run (the server's
 * generator is paced at a token every few hours), takes the server's live heap (after a full GC) and RSS, then opens
 * one stream per job (SSE or a bridge socket registered for the job) and measures again. The difference over the
 * number of streams is what one idle follower costs the gateway: its connection, its follower, and this node's
 * subscription to the job (one per followed job); the jobs themselves are in both measurements. With {@code --jobs}
 * fewer than the streams, streams share jobs (round robin) and the per-job subscription is mostly left out: that is
 * how 20,000 followers fit on a small machine whose Redis cannot renew 20,000 job leases in time.
 */
final class IdleFollowers {
  private final StreamBench b;
  private final HttpClient http;
  private final WebSocketClient ws;

  IdleFollowers(StreamBench b, HttpClient http, WebSocketClient ws) {
    this.b = b;
    this.http = http;
    this.ws = ws;
  }

  int run() throws Exception {
    if (b.serverPid <= 0) {
      throw new IllegalArgumentException("--mode idle needs --server-pid");
    }
    List<JsonObject> jobs = new CopyOnWriteArrayList<>();
    int jobCount = b.jobs > 0 ? Math.min(b.jobs, b.streams) : b.streams;
    paced(jobCount, n -> b.submit(http, n).onSuccess(jobs::add));
    waitFor(() -> jobs.size() + b.failed.get() >= jobCount, "jobs submitted");
    Thread.sleep(3000);
    Map<String, Long> before = ServerProbe.liveHistogram(b.serverPid);
    long rss0 = ServerProbe.rssKb(b.serverPid);
    System.out.println("jobs: " + jobs.size() + ", live heap " + before.get("Total") / 1024 + " KiB, RSS " + rss0 + " KiB");
    int failedSubmits = (int) b.failed.get();
    int streams = jobs.size() == jobCount ? b.streams : jobs.size();
    paced(streams, n -> {
      JsonObject job = jobs.get(n % jobs.size());
      return b.transport.equals("sockjs") ? b.followSockJs(ws, job, n) : b.followSse(http, job, n);
    });
    waitFor(() -> b.opened.get() + b.failed.get() - failedSubmits >= streams, "streams open");
    Thread.sleep(5000); // registrations, replays and first writes settle
    Map<String, Long> after = ServerProbe.liveHistogram(b.serverPid);
    long rss1 = ServerProbe.rssKb(b.serverPid);
    long n = b.opened.get();
    System.out.println("streams open: " + n + ", failed: " + b.failed.get() + ", ended: " + b.ended.get()
      + ", live heap " + after.get("Total") / 1024 + " KiB, RSS " + rss1 + " KiB");
    // What idle streams cost over time: heartbeats, and the gateway's idle check, which reads every silent followed
    // job back from the store once per TOKENBUS_IDLE_POLL_MS in case the bus lost something.
    ServerProbe.CpuWindow idle = new ServerProbe.CpuWindow(b.serverPid, b.redisPid).start();
    Thread.sleep(TimeUnit.SECONDS.toMillis(b.seconds));
    idle.stop();
    double perSecond = 1.0 / b.seconds;
    System.out.printf("idle for %d s: server JVM %d µs, Redis %d µs of CPU%n", b.seconds, idle.jvmMicros(), idle.redisMicros());
    List<String> top = ServerProbe.topGrowth(before, after, 40);
    System.out.println("live bytes grown most (bytes class):");
    ServerProbe.topGrowth(before, after, 120).forEach(l -> System.out.println("  " + l));
    JsonObject report = new JsonObject().put("mode", "idle").put("transport", b.transport).put("streams", n)
      .put("jobs", jobs.size())
      .put("failed", b.failed.get()).put("ended", b.ended.get())
      .put("heapBytesPerFollower", n == 0 ? -1 : (after.get("Total") - before.get("Total")) / n)
      .put("rssBytesPerFollower", n == 0 ? -1 : (rss1 - rss0) * 1024 / n)
      .put("heapBytesBefore", before.get("Total")).put("heapBytesAfter", after.get("Total"))
      .put("rssKbBefore", rss0).put("rssKbAfter", rss1)
      .put("idleCpuMsPerSecondJvm", idle.jvmMicros() / 1000.0 * perSecond)
      .put("idleCpuMsPerSecondRedis", idle.redisMicros() / 1000.0 * perSecond).put("topGrowth", new JsonArray(new ArrayList<>(top)));
    System.out.println("RESULT " + report.encode());
    return b.failed.get() == 0 && b.ended.get() == 0 ? 0 : 1;
  }

  /** Calls {@code step} for 0..count-1 at {@code --submit-per-second}, on the bench's event loop. */
  private void paced(int count, java.util.function.IntFunction<Future<?>> step) {
    long interval = Math.max(1, 1000 / b.submitPerSecond);
    int perTick = Math.max(1, b.submitPerSecond / 1000);
    int[] next = {0};
    b.vertx().setPeriodic(interval, id -> {
      for (int i = 0; i < perTick && next[0] < count; i++) {
        int n = next[0]++;
        step.apply(n).onFailure(e -> {
          b.failed.incrementAndGet();
          System.err.println("stream " + n + ": " + e.getMessage());
        });
      }
      if (next[0] >= count) {
        b.vertx().cancelTimer(id);
      }
    });
  }

  private static void waitFor(java.util.function.BooleanSupplier done, String what) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(300);
    while (!done.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("timed out waiting for: " + what);
      }
      Thread.sleep(100);
    }
  }
}
