package io.tokenbus.launcher.faults;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.tokenbus.launcher.faults.JobFollower.Options;
import io.tokenbus.testing.RedisProcess;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The soak (issue 7; not in CI): run by {@code bench/soak.sh [minutes]}, skipped unless {@code -Dtokenbus.soak=true}.
 * One checkpoint, two workers and two gateways (separate JVMs) over a real Redis; 200 jobs always streaming (local
 * generator, 20 tokens/s × 200 tokens), each followed by its own client over SSE (even slots) or the bridge (odd
 * slots), both gateways in its list; when a job ends, its client is judged and a new job takes the slot. Faults:
 * every minute a gateway (at :15) and a worker (at :35) are SIGKILLed and started again (alternating between the
 * two; a gateway comes back on its port), and every second minute Redis is SIGSTOPped for 5 s (at :50). Every 10 s
 * the RSS of every process ({@code VmRSS} of /proc/<pid>/status) and the clients' progress go to CSV files under
 * {@code bench/results/}; at the end a summary line (also as JSON): jobs, chunks, lost, duplicated, hung, the
 * longest client resumption, RSS first/last per process. A client passes when it got exactly 1..lastSequence of its
 * terminal, or ended with a clear code (counted by code); a job with no end within {@link #HANG_MS} is hung.
 */
class SoakTest {
  private static final int STREAMS = Integer.getInteger("tokenbus.soak.streams", 200);
  private static final long HANG_MS = 120_000;
  private static final Options FOLLOW = Options.defaults().silence(15_000);
  private static final DateTimeFormatter STAMP = DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss");

  /** A running client: when it started and the slot it holds. */
  private record Running(long startNanos, int slot) {}

  private final Map<JobFollower, Running> active = new ConcurrentHashMap<>();
  private final ExecutorService submitters = Executors.newFixedThreadPool(8, r -> {
    Thread t = new Thread(r, "soak-submit");
    t.setDaemon(true);
    return t;
  });
  private final SoakTally tally = new SoakTally();
  private final ProcessRss rss = new ProcessRss();
  private volatile boolean stopping;
  private long t0 = System.nanoTime();
  private Path events;
  private final List<Integer> ports = new ArrayList<>();

  @Test
  @Timeout(value = 24, unit = TimeUnit.HOURS) // as long as asked (tokenbus.soak.minutes), not the 5-minute default
  void soak() throws Exception {
    Assumptions.assumeTrue(Boolean.getBoolean("tokenbus.soak"),
      "soak skipped: it runs only with -Dtokenbus.soak=true (bench/soak.sh [minutes]); mvn verify never runs it");
    int minutes = Integer.getInteger("tokenbus.soak.minutes", 10);
    Path results = Path.of(System.getProperty("tokenbus.soak.results", "../bench/results")).toAbsolutePath().normalize();
    Files.createDirectories(results);
    String stamp = System.getProperty("tokenbus.soak.stamp", LocalDateTime.now().format(STAMP));
    events = results.resolve("soak-" + stamp + "-events.log");
    Path rssCsv = results.resolve("soak-" + stamp + "-rss.csv");
    Path progressCsv = results.resolve("soak-" + stamp + "-progress.csv");
    Files.writeString(rssCsv, "t_s,process,pid,rss_kb\n");
    Files.writeString(progressCsv, "t_s,active,jobs_ended,chunks_received,hung\n");

    try (FaultCluster cluster = new FaultCluster(SoakTest.class, RedisProcess.Persistence.NONE, Map.of(
      "TOKENBUS_LOCAL_TOKENS_PER_SECOND", "20",
      "TOKENBUS_LOCAL_MAX_TOKENS", "200",
      "TOKENBUS_WORKER_LEASE_SECONDS", "4",
      // finished jobs leave Redis after 3 min (> the 120 s hang bound), so that its RSS can level off too
      "TOKENBUS_RETENTION_SECONDS", "180"))) {
      List<TokenbusProcess> ps = cluster.launchAll("checkpoint", "worker", "worker", "gateway", "gateway");
      List<CompletableFuture<TokenbusProcess>> gateways = new ArrayList<>(List.of(done(ps.get(3)), done(ps.get(4))));
      List<CompletableFuture<TokenbusProcess>> workerSlots = new ArrayList<>(List.of(done(ps.get(1)), done(ps.get(2))));
      ports.add(ps.get(3).port());
      ports.add(ps.get(4).port());
      rss.track("redis", cluster.redis().pid());
      ps.forEach(p -> rss.track(p.name(), p.pid()));
      rss.track("soak-client", ProcessHandle.current().pid());
      t0 = System.nanoTime();
      event("soak: " + minutes + " min, " + STREAMS + " streams, " + cluster.describe());

      var sampler = Api.TIMERS.scheduleAtFixedRate(() -> sample(rssCsv, progressCsv), 0, 10, TimeUnit.SECONDS);
      var hangs = Api.TIMERS.scheduleAtFixedRate(this::reapHung, 5, 5, TimeUnit.SECONDS);
      for (int slot = 0; slot < STREAMS; slot++) {
        startSlot(slot);
      }
      long end = t0 + TimeUnit.MINUTES.toNanos(minutes);
      for (int m = 0; m < minutes; m++) {
        long minute = t0 + TimeUnit.MINUTES.toNanos(m);
        int i = m % 2;
        sleepUntil(minute + TimeUnit.SECONDS.toNanos(15), end);
        if (System.nanoTime() < end) {
          restart(cluster, gateways, i, Map.of("TOKENBUS_HTTP_PORT", String.valueOf(ports.get(i))));
        }
        sleepUntil(minute + TimeUnit.SECONDS.toNanos(35), end);
        if (System.nanoTime() < end) {
          restart(cluster, workerSlots, i, Map.of());
        }
        sleepUntil(minute + TimeUnit.SECONDS.toNanos(50), end);
        if (m % 2 == 1 && System.nanoTime() < end) {
          fault("redis SIGSTOP 5 s");
          cluster.redis().pause();
          try {
            Thread.sleep(5_000);
          } finally {
            cluster.redis().resume();
          }
          fault("redis SIGCONT");
        }
      }
      sleepUntil(end, end);
      stopping = true;
      event("soak: no new jobs; waiting for " + active.size() + " to end");
      long drain = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(HANG_MS);
      while (!active.isEmpty() && System.nanoTime() < drain) {
        Thread.sleep(500);
      }
      hangs.cancel(false);
      reapHung(0);
      sampler.cancel(false);
      sample(rssCsv, progressCsv);
      JsonObject summary = summary(minutes, cluster, rssCsv, progressCsv);
      Files.writeString(results.resolve("soak-" + stamp + "-summary.json"), summary.encodePrettily() + "\n");
      event("SOAK " + SoakTally.line(summary));
      System.out.println("SOAK-JSON " + summary.encode());
      assertEquals("lost 0, duplicated 0, contract breaks 0, hung 0", tally.verdict(),
        "soak: " + SoakTally.line(summary) + "\n  " + tally.problems());
    } finally {
      stopping = true;
      active.keySet().forEach(JobFollower::close);
      submitters.shutdownNow();
    }
  }

  private static CompletableFuture<TokenbusProcess> done(TokenbusProcess p) {
    return CompletableFuture.completedFuture(p);
  }

  /**
   * SIGKILLs the process of slot {@code i} and starts a new one of its role in the background (so the schedule goes
   * on while it starts); first waits (at most 120 s) until both slots run, so that one of the two always serves.
   */
  private void restart(FaultCluster cluster, List<CompletableFuture<TokenbusProcess>> slots, int i, Map<String, String> env)
    throws Exception {
    for (CompletableFuture<TokenbusProcess> f : slots) {
      f.get(120, TimeUnit.SECONDS);
    }
    TokenbusProcess p = slots.get(i).join();
    fault(p.name() + " SIGKILL");
    p.kill();
    long start = System.nanoTime();
    String role = p.name().substring(0, p.name().indexOf('-'));
    slots.set(i, CompletableFuture.supplyAsync(() -> {
      try {
        TokenbusProcess fresh = cluster.launch(role, env);
        long ms = (System.nanoTime() - start) / 1_000_000;
        tally.restarted(ms);
        fault(fresh.name() + " running after " + ms + " ms (pid " + fresh.pid() + ")");
        rss.track(fresh.name(), fresh.pid());
        return fresh;
      } catch (IOException e) {
        fault("a new " + role + " did not start: " + e);
        throw new CompletionException(e);
      }
    }, Api.EXECUTOR));
  }

  private void startSlot(int slot) {
    if (stopping) {
      return;
    }
    submitters.execute(() -> {
      Api.Job job = null;
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      for (int attempt = 0; job == null && !stopping && System.nanoTime() < deadline; attempt++) {
        try {
          job = Api.submit(ports.get((slot + attempt) % 2), "soak slot " + slot);
        } catch (Exception e) {
          tally.submitFailed(e);
          RedisProcess.sleep(500);
        }
      }
      if (job == null) {
        if (!stopping) {
          tally.record("submit failed for 60 s", null);
          Api.TIMERS.schedule(() -> startSlot(slot), 1, TimeUnit.SECONDS);
        }
        return;
      }
      List<Integer> order = slot % 4 < 2 ? ports : List.of(ports.get(1), ports.get(0));
      JobFollower f = slot % 2 == 0 ? new SseFollower(job, order, FOLLOW) : new BridgeFollower(job, order, FOLLOW);
      active.put(f, new Running(System.nanoTime(), slot));
      f.log().done().whenCompleteAsync((v, e) -> {
        if (active.remove(f) != null) {
          tally.judge(f.log());
          f.close();
          startSlot(slot);
        }
      }, submitters);
      f.start();
    });
  }

  /** Followers with no end after HANG_MS (all of them, with 0) are hung: judged, closed, their slot reused. */
  private void reapHung(long olderThanMs) {
    long now = System.nanoTime();
    active.forEach((f, run) -> {
      if (now - run.startNanos() >= TimeUnit.MILLISECONDS.toNanos(olderThanMs) && active.remove(f) != null) {
        f.close();
        tally.judge(f.log());
        startSlot(run.slot());
      }
    });
  }

  private void reapHung() {
    reapHung(HANG_MS);
  }

  private void fault(String what) {
    tally.fault(String.format("%.1f s %s", (System.nanoTime() - t0) / 1e9, what));
    event("soak fault: " + what);
  }

  /** On stdout (surefire's -output.txt) and in the events file that bench/soak.sh shows as it goes. */
  private void event(String what) {
    Timeline.mark(what);
    try {
      Files.writeString(events, String.format("[%s +%.1f s] %s%n", java.time.LocalTime.now().withNano(0),
        (System.nanoTime() - t0) / 1e9, what), StandardOpenOption.CREATE, StandardOpenOption.APPEND);
    } catch (IOException ignored) {
      // stdout has it
    }
  }

  /** One row per live process into the RSS CSV, and one progress row. */
  private void sample(Path rssCsv, Path progressCsv) {
    try {
      long t = (System.nanoTime() - t0) / 1_000_000_000;
      Files.writeString(rssCsv, rss.sample(t), StandardOpenOption.APPEND);
      long live = active.keySet().stream().mapToLong(f -> f.log().chunkCount()).sum();
      Files.writeString(progressCsv, tally.progressRow(t, active.size(), live), StandardOpenOption.APPEND);
    } catch (Exception e) {
      Timeline.mark("soak: sampling failed: " + e);
    }
  }

  private JsonObject summary(int minutes, FaultCluster cluster, Path rssCsv, Path progressCsv) {
    return tally.summary(minutes, STREAMS, new JsonObject()
      .put("rssKb", rss.toJson())
      .put("rssCsv", fromRepository(rssCsv)).put("progressCsv", fromRepository(progressCsv))
      .put("logs", fromRepository(cluster.logDir())));
  }

  /** {@code p} relative to the repository (the parent of this module, where surefire runs), for committed results. */
  private static String fromRepository(Path p) {
    Path repository = Path.of("").toAbsolutePath().getParent();
    Path abs = p.toAbsolutePath().normalize();
    return abs.startsWith(repository) ? repository.relativize(abs).toString() : abs.toString();
  }

  private static void sleepUntil(long nanos, long end) throws InterruptedException {
    long until = Math.min(nanos, end);
    long left;
    while ((left = until - System.nanoTime()) > 0) {
      Thread.sleep(Math.min(TimeUnit.NANOSECONDS.toMillis(left) + 1, 1_000));
    }
  }
}
