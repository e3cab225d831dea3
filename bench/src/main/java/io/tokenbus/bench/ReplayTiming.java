package io.tokenbus.bench;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.core.parsetools.RecordParser;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Replay speed: one job is run to its end (the server's generator is fast), then replayed from 0 {@code --replays}
 * times over {@code GET /api/jobs/{id}/chunks} pages (one request after the other, as a client resuming by hand) and
 * over SSE ({@code ?after=0} until the terminal event). Reports the wall time of each whole replay as the client saw
 * it (an upper bound of the server's share: client and server share the machine) and the CPU the server JVM and
 * Redis spent on it, the figure a busy machine distorts least. Every replay must bring every chunk once, in order.
 */
final class ReplayTiming {
  private final StreamBench b;
  private final HttpClient http;

  ReplayTiming(StreamBench b, HttpClient http) {
    this.b = b;
    this.http = http;
  }

  int run() throws Exception {
    JsonObject job = b.submit(http, 0).toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    String id = job.getString("jobId");
    String token = job.getString("streamToken");
    long chunks = await(sse(id, token)); // the live run, to its end
    System.out.println("job " + id + " finished with " + chunks + " chunks");
    JsonObject report = new JsonObject().put("mode", "replay").put("chunks", chunks);
    boolean ok = true;
    for (String how : List.of("http", "sse")) {
      List<Double> wall = new ArrayList<>();
      List<Double> cpu = new ArrayList<>();
      long jvmMicros = 0;
      long redisMicros = 0;
      for (int i = 0; i < b.replays; i++) { // warm-up: as many as are timed, so the JIT has compiled the path
        await(how.equals("http") ? pages(id, token) : sse(id, token));
      }
      for (int i = 0; i < b.replays; i++) {
        ServerProbe.CpuWindow w = new ServerProbe.CpuWindow(b.serverPid, b.redisPid).start();
        long t0 = System.nanoTime();
        long got = await(how.equals("http") ? pages(id, token) : sse(id, token));
        wall.add((System.nanoTime() - t0) / 1e6);
        w.stop();
        cpu.add(w.jvmMicros() < 0 ? -1 : (w.jvmMicros() + Math.max(0, w.redisMicros())) / 1000.0);
        ok &= got == chunks;
        jvmMicros += w.jvmMicros();
        redisMicros += Math.max(0, w.redisMicros());
        System.out.printf("%s replay %d: %d chunks, %.1f ms wall, %.1f ms server CPU (JVM %d µs, Redis %d µs)%n", how,
          i + 1, got, wall.get(i), cpu.get(i), w.jvmMicros(), w.redisMicros());
      }
      report.put(how, new JsonObject().put("wallMsMedian", median(wall)).put("wallMsMin", Collections.min(wall))
        .put("serverCpuMsMedian", median(cpu))
        // Means: the CPU clocks tick every 10 ms, longer than a replay, so one replay's figure is 0, 10, 20...
        .put("jvmCpuMsMean", jvmMicros / 1000.0 / b.replays).put("redisCpuMsMean", redisMicros / 1000.0 / b.replays)
        .put("wallMs", new JsonArray(new ArrayList<>(wall)))
        .put("serverCpuMs", new JsonArray(new ArrayList<>(cpu))));
    }
    System.out.println("RESULT " + report.encode());
    return ok ? 0 : 1;
  }

  private static long await(Future<Long> f) throws Exception {
    return f.toCompletionStage().toCompletableFuture().get(120, TimeUnit.SECONDS);
  }

  private static double median(List<Double> v) {
    List<Double> s = new ArrayList<>(v);
    Collections.sort(s);
    return s.get(s.size() / 2);
  }

  /** Pages of GET /chunks until the last one; the number of chunks, checked dense from 1. */
  private Future<Long> pages(String id, String token) {
    return page(id, token, 0);
  }

  private Future<Long> page(String id, String token, long after) {
    return http.request(HttpMethod.GET, "/api/jobs/" + id + "/chunks?after=" + after + "&token=" + token)
      .compose(req -> req.send().compose(resp -> resp.body())).compose(body -> {
        JsonObject p = new JsonObject(body);
        long last = after;
        for (Object o : p.getJsonArray("chunks")) {
          long s = ((JsonObject) o).getLong("sequence");
          if (s != last + 1) {
            return Future.failedFuture("page after " + after + ": sequence " + s + " after " + last);
          }
          last = s;
        }
        return p.getBoolean("hasMore", false) && last > after ? page(id, token, last) : Future.succeededFuture(last);
      });
  }

  /** An SSE stream from 0 to its terminal event; the number of chunk events, checked dense from 1. */
  private Future<Long> sse(String id, String token) {
    Promise<Long> done = Promise.promise();
    long[] last = {0};
    // Handlers go on in send's own callback, on the event loop, before any byte of the stream arrives.
    http.request(HttpMethod.GET, "/api/jobs/" + id + "/events?after=0&token=" + token)
      .compose(req -> req.send().onSuccess(resp -> {
        resp.handler(RecordParser.newDelimited("\n", (Buffer line) -> {
          String s = line.toString();
          if (s.startsWith("id: ")) {
            long q = Long.parseLong(s.substring(4).trim());
            if (q != last[0] + 1) {
              done.tryFail("sse: sequence " + q + " after " + last[0]);
            }
            last[0] = q;
          } else if (s.startsWith("event: job:") && !s.contains("progress")) {
            done.tryComplete(last[0]);
          }
        }));
        resp.endHandler(v -> done.tryComplete(last[0]));
        resp.exceptionHandler(done::tryFail);
      }))
      .onFailure(done::tryFail);
    return done.future();
  }
}
