package io.tokenbus.launcher.faults;

import io.tokenbus.testing.RedisProcess;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/** Submitting jobs, following them, and checking the store against what clients got. */
public final class Workload {
  private static final ExecutorService SUBMITTERS = Executors.newFixedThreadPool(8, r -> {
    Thread t = new Thread(r, "submitter");
    t.setDaemon(true);
    return t;
  });

  private Workload() {}

  /** How the jobs of a workload are followed: half over SSE, half over the bridge (alternating). */
  public enum Mix { SSE, BRIDGE, HALF_AND_HALF }

  /**
   * Submits {@code n} jobs on {@code submitPort} and follows each from {@code ports} (first one first), alternating
   * SSE and bridge for {@link Mix#HALF_AND_HALF}.
   */
  public static List<JobFollower> submitAndFollow(int n, int submitPort, List<Integer> ports, Mix mix,
                                                  JobFollower.Options options, String prompt) throws Exception {
    Timeline.mark("submitting " + n + " jobs on " + submitPort + " followed via " + ports + " (" + mix + ")");
    List<CompletableFuture<JobFollower>> all = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      int index = i;
      all.add(CompletableFuture.supplyAsync(() -> {
        try {
          long start = System.nanoTime();
          Api.Job job = Api.submit(submitPort, prompt + " #" + index);
          long took = (System.nanoTime() - start) / 1_000_000;
          boolean sse = mix == Mix.SSE || (mix == Mix.HALF_AND_HALF && index % 2 == 0);
          JobFollower f = sse ? new SseFollower(job, ports, options) : new BridgeFollower(job, ports, options);
          f.log().submitted(took);
          f.start();
          return f;
        } catch (Exception e) {
          throw new CompletionException(e);
        }
      }, SUBMITTERS));
    }
    List<JobFollower> out = new ArrayList<>(n);
    try {
      for (CompletableFuture<JobFollower> f : all) {
        out.add(f.get(60, TimeUnit.SECONDS));
      }
    } catch (ExecutionException e) {
      all.forEach(f -> f.thenAccept(JobFollower::close));
      throw e.getCause() instanceof Exception ex ? ex : e;
    }
    Timeline.mark("submitted " + n + " jobs");
    return out;
  }

  /** Waits (at most {@code timeoutMs}) until every follower has at least {@code min} chunks; fails otherwise. */
  public static void awaitChunks(Collection<? extends JobFollower> followers, int min, long timeoutMs, String context) {
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
    while (System.nanoTime() < deadline) {
      if (followers.stream().allMatch(f -> f.log().chunkCount() >= min || f.log().done().isDone())) {
        long ended = followers.stream().filter(f -> f.log().done().isDone()).count();
        Timeline.mark("every client has " + min + " chunks" + (ended > 0 ? "; " + ended + " already ended (the fault will miss them)" : ""));
        return;
      }
      RedisProcess.sleep(50);
    }
    List<String> slow = followers.stream().filter(f -> f.log().chunkCount() < min).limit(5).map(f -> f.log().summary()).toList();
    throw new AssertionError("precondition: not every client had " + min + " chunks after " + timeoutMs + " ms (" + context
      + "): " + slow);
  }

  /**
   * Reads every job back from the store ({@code GET /api/jobs/{id}/chunks?after=0}, paging) and checks it holds
   * exactly the chunks its client received: nothing a client saw was lost.
   */
  public static void assertStoreHoldsWhatClientsGot(int port, Collection<? extends JobFollower> followers) throws Exception {
    List<String> problems = new ArrayList<>();
    for (JobFollower f : followers) {
      Map<Long, String> got = f.log().chunks();
      List<String> stored = new ArrayList<>();
      long after = 0;
      for (int page = 0; page < 100; page++) {
        HttpResponse<String> r = Api.chunks(port, f.job(), after);
        if (r.statusCode() != 200) {
          problems.add(f.job() + ": chunks?after=" + after + " answered " + r.statusCode() + " " + r.body());
          break;
        }
        JsonObject j = new JsonObject(r.body());
        JsonArray arr = j.getJsonArray("chunks");
        for (int i = 0; i < arr.size(); i++) {
          stored.add(arr.getJsonObject(i).getString("chunk"));
          after = arr.getJsonObject(i).getLong("sequence");
        }
        if (!j.getBoolean("hasMore", false) || arr.isEmpty()) {
          break;
        }
      }
      if (!stored.equals(new ArrayList<>(got.values()))) {
        problems.add(f.job() + ": store holds " + stored.size() + " chunks, the client got " + got.size());
      }
      if (problems.size() >= 5) {
        break;
      }
    }
    if (!problems.isEmpty()) {
      throw new AssertionError("the store does not hold what clients received: " + problems);
    }
  }

  public static void closeAll(Collection<? extends JobFollower> followers) {
    followers.forEach(JobFollower::close);
  }
}
