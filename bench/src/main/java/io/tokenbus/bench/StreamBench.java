package io.tokenbus.bench;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.core.parsetools.RecordParser;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Opens many SSE streams against a running tokenbus and measures what a browser would see: end-to-end latency of
 * every chunk (receive time minus the chunk's {@code timestamp}, which the worker sets when it forms the chunk, before
 * it is persisted), delivered tokens per second, and exactly-once delivery (dense sequences per stream).
 *
 * <p>{@code timestamp} has millisecond resolution, so each latency is over-estimated by 0..1 ms (0.5 ms on average).
 */
@Command(name = "tokenbus-bench", mixinStandardHelpOptions = true)
public final class StreamBench implements Callable<Integer> {
  @Option(names = "--host", defaultValue = "127.0.0.1") String host;
  @Option(names = "--port", defaultValue = "8080") int port;
  @Option(names = "--streams", defaultValue = "1000") int streams;
  @Option(names = "--batch", defaultValue = "1") int batch;
  @Option(names = "--warmup-seconds", defaultValue = "10") int warmupSeconds;
  @Option(names = "--seconds", defaultValue = "30") int seconds;
  @Option(names = "--submit-per-second", defaultValue = "250") int submitPerSecond;
  @Option(names = "--event-loops", defaultValue = "1") int eventLoops;

  private final Recorder latency = new Recorder(TimeUnit.SECONDS.toMicros(60), 3);
  private final AtomicLong tokens = new AtomicLong();
  private final AtomicLong chunks = new AtomicLong();
  private final AtomicLong gaps = new AtomicLong();
  private final AtomicLong duplicates = new AtomicLong();
  private final AtomicLong ended = new AtomicLong();
  private final AtomicLong failed = new AtomicLong();
  private final AtomicLong opened = new AtomicLong();

  public static void main(String[] args) {
    System.exit(new CommandLine(new StreamBench()).execute(args));
  }

  @Override
  public Integer call() throws Exception {
    Vertx vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(eventLoops));
    HttpClient http = vertx.createHttpClient(new HttpClientOptions().setDefaultHost(host).setDefaultPort(port)
      .setKeepAlive(true), new PoolOptions().setHttp1MaxSize(streams + 16));
    long interval = Math.max(1, 1000 / submitPerSecond);
    int perTick = Math.max(1, submitPerSecond / 1000);
    int[] started = {0};
    vertx.setPeriodic(interval, id -> {
      for (int i = 0; i < perTick && started[0] < streams; i++) {
        int n = started[0]++;
        open(http, n).onFailure(e -> {
          failed.incrementAndGet();
          System.err.println("stream " + n + ": " + e.getMessage());
        });
      }
      if (started[0] >= streams) {
        vertx.cancelTimer(id);
      }
    });
    // The bench's own clock: phases of fixed length. Warm-up counts from the moment every stream is open.
    long openDeadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
    while (opened.get() + failed.get() < streams && System.nanoTime() < openDeadline) {
      Thread.sleep(100);
    }
    System.out.println("streams open: " + opened.get() + ", failed: " + failed.get());
    Thread.sleep(TimeUnit.SECONDS.toMillis(warmupSeconds));
    latency.reset();
    long t0 = System.nanoTime();
    long tok0 = tokens.get();
    long ch0 = chunks.get();
    List<String> perSecond = new ArrayList<>();
    Histogram total = new Histogram(TimeUnit.SECONDS.toMicros(60), 3);
    for (int s = 0; s < seconds; s++) {
      long before = tokens.get();
      Thread.sleep(1000);
      Histogram h = latency.getIntervalHistogram();
      total.add(h);
      perSecond.add(String.format("t=%2ds tokens/s=%6d p50=%.2fms p99=%.2fms max=%.2fms", s + 1, tokens.get() - before,
        h.getValueAtPercentile(50) / 1000.0, h.getValueAtPercentile(99) / 1000.0, h.getMaxValue() / 1000.0));
      System.out.println(perSecond.get(perSecond.size() - 1));
    }
    double secs = (System.nanoTime() - t0) / 1e9;
    JsonObject report = new JsonObject()
      .put("streams", streams).put("batch", batch).put("measuredSeconds", Math.round(secs * 10) / 10.0)
      .put("tokensPerSecond", Math.round((tokens.get() - tok0) / secs))
      .put("chunksPerSecond", Math.round((chunks.get() - ch0) / secs))
      .put("latencyMs", new JsonObject()
        .put("p50", total.getValueAtPercentile(50) / 1000.0).put("p90", total.getValueAtPercentile(90) / 1000.0)
        .put("p99", total.getValueAtPercentile(99) / 1000.0).put("p999", total.getValueAtPercentile(99.9) / 1000.0)
        .put("max", total.getMaxValue() / 1000.0).put("samples", total.getTotalCount()))
      .put("gaps", gaps.get()).put("duplicates", duplicates.get()).put("streamsEnded", ended.get())
      .put("streamsFailed", failed.get());
    System.out.println("RESULT " + report.encode());
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    return gaps.get() == 0 && duplicates.get() == 0 ? 0 : 1;
  }

  private Future<Void> open(HttpClient http, int n) {
    JsonObject body = new JsonObject().put("prompt", "bench stream " + n).put("batch", batch);
    return http.request(HttpMethod.POST, "/api/jobs")
      .compose(req -> req.putHeader("content-type", "application/json").send(body.toBuffer()))
      .compose(resp -> resp.body().map(b -> {
        if (resp.statusCode() != 202) {
          throw new IllegalStateException("submit answered " + resp.statusCode() + " " + b);
        }
        return new JsonObject(b);
      }))
      .compose(job -> http.request(new RequestOptions().setMethod(HttpMethod.GET)
        .setURI("/api/jobs/" + job.getString("jobId") + "/events?token=" + job.getString("streamToken"))))
      .compose(req -> req.send())
      .compose(resp -> {
        if (resp.statusCode() != 200) {
          return Future.failedFuture("events answered " + resp.statusCode());
        }
        long[] last = {0};
        resp.handler(RecordParser.newDelimited("\n", line -> onLine(line, last)));
        resp.endHandler(v -> ended.incrementAndGet());
        opened.incrementAndGet();
        return Future.succeededFuture();
      });
  }

  private void onLine(Buffer line, long[] last) {
    if (line.length() < 6 || line.getByte(0) != 'd') {
      return;
    }
    String s = line.toString();
    long seq = number(s, "\"sequence\":");
    if (seq < 0) {
      return; // progress or terminal event
    }
    Instant now = Instant.now();
    long nowMicros = now.getEpochSecond() * 1_000_000L + now.getNano() / 1000;
    long ts = number(s, "\"timestamp\":");
    latency.recordValue(Math.max(0, nowMicros - ts * 1000));
    long t = number(s, "\"tokens\":");
    tokens.addAndGet(t > 0 ? t : 1);
    chunks.incrementAndGet();
    if (seq <= last[0]) {
      duplicates.incrementAndGet();
    } else if (seq != last[0] + 1) {
      gaps.incrementAndGet();
    }
    last[0] = Math.max(last[0], seq);
  }

  private static long number(String s, String key) {
    int i = s.indexOf(key);
    if (i < 0) {
      return -1;
    }
    i += key.length();
    long v = 0;
    while (i < s.length() && Character.isDigit(s.charAt(i))) {
      v = v * 10 + (s.charAt(i++) - '0');
    }
    return v;
  }
}
