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
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketClientOptions;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.json.JsonArray;
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
  @Option(names = "--transport", defaultValue = "sse", description = "sse or sockjs (SockJS websocket, bridge frames)")
  String transport;
  @Option(names = "--interactive-percent", defaultValue = "100",
    description = "share of streams submitted with priority interactive, spread evenly; the rest are background")
  int interactivePercent;
  @Option(names = "--rss-pid", defaultValue = "0", description = "a process whose resident memory is sampled every second")
  long rssPid;

  private final Recorder latency = new Recorder(TimeUnit.SECONDS.toMicros(60), 3);
  /** Per class: [0] interactive, [1] background. */
  private final Recorder[] classLatency = {new Recorder(TimeUnit.SECONDS.toMicros(60), 3),
    new Recorder(TimeUnit.SECONDS.toMicros(60), 3)};
  private final AtomicLong[] classTokens = {new AtomicLong(), new AtomicLong()};
  private final AtomicLong tokens = new AtomicLong();
  private final AtomicLong chunks = new AtomicLong();
  private static final int MAX_SEQUENCE = 1 << 16;
  private final List<long[]> seen = new java.util.concurrent.CopyOnWriteArrayList<>();
  private final AtomicLong duplicates = new AtomicLong();
  private final AtomicLong ended = new AtomicLong();
  private final AtomicLong failed = new AtomicLong();
  private final AtomicLong opened = new AtomicLong();
  private Vertx vertx;

  public static void main(String[] args) {
    System.exit(new CommandLine(new StreamBench()).execute(args));
  }

  @Override
  public Integer call() throws Exception {
    vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(eventLoops));
    HttpClient http = vertx.createHttpClient(new HttpClientOptions().setDefaultHost(host).setDefaultPort(port)
      .setKeepAlive(true), new PoolOptions().setHttp1MaxSize(streams + 16));
    WebSocketClient ws = vertx.createWebSocketClient(new WebSocketClientOptions().setMaxConnections(streams + 16));
    long interval = Math.max(1, 1000 / submitPerSecond);
    int perTick = Math.max(1, submitPerSecond / 1000);
    int[] started = {0};
    vertx.setPeriodic(interval, id -> {
      for (int i = 0; i < perTick && started[0] < streams; i++) {
        int n = started[0]++;
        (transport.equals("sockjs") ? openSockJs(http, ws, n) : open(http, n)).onFailure(e -> {
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
    classLatency[0].reset();
    classLatency[1].reset();
    long t0 = System.nanoTime();
    long tok0 = tokens.get();
    long ch0 = chunks.get();
    long[] classTok0 = {classTokens[0].get(), classTokens[1].get()};
    List<String> perSecond = new ArrayList<>();
    Histogram total = new Histogram(TimeUnit.SECONDS.toMicros(60), 3);
    Histogram[] classTotal = {new Histogram(TimeUnit.SECONDS.toMicros(60), 3), new Histogram(TimeUnit.SECONDS.toMicros(60), 3)};
    JsonArray rss = new JsonArray();
    boolean mixed = interactivePercent < 100;
    for (int s = 0; s < seconds; s++) {
      long before = tokens.get();
      long[] classBefore = {classTokens[0].get(), classTokens[1].get()};
      Thread.sleep(1000);
      Histogram h = latency.getIntervalHistogram();
      total.add(h);
      String line = String.format("t=%2ds tokens/s=%6d p50=%.2fms p99=%.2fms max=%.2fms", s + 1, tokens.get() - before,
        h.getValueAtPercentile(50) / 1000.0, h.getValueAtPercentile(99) / 1000.0, h.getMaxValue() / 1000.0);
      if (mixed) {
        for (int k = 0; k < 2; k++) {
          Histogram ch = classLatency[k].getIntervalHistogram();
          classTotal[k].add(ch);
          line += String.format(" | %s tokens/s=%6d p99=%.2fms", k == 0 ? "int" : "bg", classTokens[k].get() - classBefore[k],
            ch.getValueAtPercentile(99) / 1000.0);
        }
      }
      long kb = rssKiB();
      if (kb > 0) {
        rss.add(kb / 1024);
        line += " rss=" + kb / 1024 + "MiB";
      }
      perSecond.add(line);
      System.out.println(line);
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
      .put("gaps", gaps()).put("duplicates", duplicates.get()).put("streamsEnded", ended.get())
      .put("streamsFailed", failed.get());
    if (mixed) {
      report.put("interactivePercent", interactivePercent);
      for (int k = 0; k < 2; k++) {
        report.put(k == 0 ? "interactive" : "background", new JsonObject()
          .put("tokensPerSecond", Math.round((classTokens[k].get() - classTok0[k]) / secs))
          .put("p50", classTotal[k].getValueAtPercentile(50) / 1000.0).put("p99", classTotal[k].getValueAtPercentile(99) / 1000.0)
          .put("p999", classTotal[k].getValueAtPercentile(99.9) / 1000.0).put("max", classTotal[k].getMaxValue() / 1000.0)
          .put("samples", classTotal[k].getTotalCount()));
      }
    }
    if (!rss.isEmpty()) {
      report.put("serverRssMiBPerSecond", rss);
    }
    System.out.println("RESULT " + report.encode());
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    return gaps() == 0 && duplicates.get() == 0 ? 0 : 1;
  }

  private Future<JsonObject> submit(HttpClient http, int n) {
    JsonObject body = new JsonObject().put("prompt", "bench stream " + n).put("batch", batch);
    if (interactivePercent < 100) {
      body.put("priority", interactive(n) ? "interactive" : "background");
    }
    return http.request(HttpMethod.POST, "/api/jobs")
      .compose(req -> req.putHeader("content-type", "application/json").send(body.toBuffer()))
      .compose(resp -> resp.body().map(b -> {
        if (resp.statusCode() != 202) {
          throw new IllegalStateException("submit answered " + resp.statusCode() + " " + b);
        }
        return new JsonObject(b);
      }));
  }

  /**
   * One SockJS websocket per stream speaking the bridge frames, as the browser client does: register
   * job.&lt;id&gt;.chunk and .status with the token, then job.replay from 0.
   */
  private Future<Void> openSockJs(HttpClient http, WebSocketClient ws, int n) {
    return submit(http, n).compose(job -> ws.connect(new WebSocketConnectOptions().setHost(host).setPort(port)
        .setURI("/eventbus/" + (100 + n % 800) + "/" + java.util.UUID.randomUUID().toString().replace("-", "") + "/websocket"))
      .map(socket -> {
        String id = job.getString("jobId");
        JsonObject headers = new JsonObject().put("token", job.getString("streamToken"));
        long[] last = newStream(n);
        socket.textMessageHandler(text -> {
          if (!text.startsWith("a")) {
            return;
          }
          for (Object f : new JsonArray(text.substring(1))) {
            JsonObject frame = new JsonObject((String) f);
            JsonObject b = frame.getJsonObject("body");
            if (b == null) {
              continue;
            }
            if (b.containsKey("chunks")) { // the replay reply
              b.getJsonArray("chunks").forEach(c -> chunk((JsonObject) c, last));
            } else if ("model:chunk".equals(b.getString("type"))) {
              chunk(b, last);
            }
          }
        });
        send(socket, new JsonObject().put("type", "register").put("address", "job." + id + ".chunk").put("headers", headers));
        send(socket, new JsonObject().put("type", "register").put("address", "job." + id + ".status").put("headers", headers));
        send(socket, new JsonObject().put("type", "send").put("address", "job.replay").put("replyAddress", "r" + n)
          .put("body", new JsonObject().put("jobId", id).put("token", job.getString("streamToken")).put("afterSequence", 0)));
        vertx.setPeriodic(5000, t -> send(socket, new JsonObject().put("type", "ping")));
        opened.incrementAndGet();
        return null;
      }));
  }

  /** Spreads the interactive streams evenly over the opening order (stream n is interactive when the count of
   *  interactive streams among the first n+1 goes up). */
  private boolean interactive(int n) {
    return (long) (n + 1) * interactivePercent / 100 != (long) n * interactivePercent / 100;
  }

  private long rssKiB() {
    if (rssPid <= 0) {
      return -1;
    }
    try {
      for (String l : java.nio.file.Files.readAllLines(java.nio.file.Path.of("/proc/" + rssPid + "/status"))) {
        if (l.startsWith("VmRSS:")) {
          return Long.parseLong(l.replaceAll("[^0-9]", ""));
        }
      }
    } catch (java.io.IOException | NumberFormatException e) {
      return -1;
    }
    return -1;
  }

  /** last[0]: highest sequence; then the bitset; the last slot: the stream's class (0 interactive, 1 background). */
  private synchronized long[] newStream(int n) {
    long[] s = new long[3 + MAX_SEQUENCE / 64];
    s[s.length - 1] = interactivePercent >= 100 || interactive(n) ? 0 : 1;
    seen.add(s);
    return s;
  }

  private void chunk(JsonObject c, long[] last) {
    JsonObject meta = c.getJsonObject("metadata");
    record(c.getLong("sequence"), c.getLong("timestamp"), meta == null ? 1 : meta.getInteger("tokens", 1), last);
  }

  private static void send(WebSocket socket, JsonObject frame) {
    socket.writeTextMessage(new io.vertx.core.json.JsonArray().add(frame.encode()).encode());
  }

  private Future<Void> open(HttpClient http, int n) {
    return submit(http, n)
      .compose(job -> http.request(new RequestOptions().setMethod(HttpMethod.GET)
        .setURI("/api/jobs/" + job.getString("jobId") + "/events?token=" + job.getString("streamToken"))))
      .compose(req -> req.send())
      .compose(resp -> {
        if (resp.statusCode() != 200) {
          return Future.failedFuture("events answered " + resp.statusCode());
        }
        long[] last = newStream(n);
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
    long t = number(s, "\"tokens\":");
    record(seq, number(s, "\"timestamp\":"), t > 0 ? t : 1, last);
  }


  private void record(long seq, long ts, long tokenCount, long[] last) {
    Instant now = Instant.now();
    long nowMicros = now.getEpochSecond() * 1_000_000L + now.getNano() / 1000;
    long micros = Math.max(0, nowMicros - ts * 1000);
    latency.recordValue(micros);
    int k = (int) last[last.length - 1];
    classLatency[k].recordValue(micros);
    classTokens[k].addAndGet(tokenCount);
    tokens.addAndGet(tokenCount);
    chunks.incrementAndGet();
    // last[0]: highest sequence seen; last[1..]: a bitset of the sequences seen (order may differ between a replay
    // reply and live frames at the start of a bridge stream; each sequence must come exactly once).
    int word = 1 + (int) (seq >>> 6);
    if (word >= last.length - 1) {
      duplicates.incrementAndGet(); // beyond what the stream can hold: counted as an error, never silently
      return;
    }
    long bit = 1L << (seq & 63);
    if ((last[word] & bit) != 0) {
      duplicates.incrementAndGet();
    }
    last[word] |= bit;
    last[0] = Math.max(last[0], seq);
  }

  /** Sequences below the highest seen that never came, over all streams. */
  private long gaps() {
    long missing = 0;
    for (long[] s : seen) {
      for (long q = 1; q <= s[0]; q++) {
        if ((s[1 + (int) (q >>> 6)] & (1L << (q & 63))) == 0) {
          missing++;
        }
      }
    }
    return missing;
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
