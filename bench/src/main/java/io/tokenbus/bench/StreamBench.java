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
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.HdrHistogram.Histogram;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Opens many SSE streams against a running tokenbus and measures what a browser would see: end-to-end latency of
 * every chunk (receive time minus the chunk's {@code timestamp}, which the worker sets when it forms the chunk, before
 * it is persisted), delivered tokens per second (both also per priority class with {@code --interactive-percent}),
 * exactly-once delivery (dense sequences per stream, {@link Delivery}), the server's CPU per token ({@link ServerProbe})
 * and memory every second, and bytes on the wire per token ({@link HostCounters}), with or without compression.
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
  @Option(names = "--mode", defaultValue = "stream", description = "stream (latency, throughput), idle (memory per idle "
    + "follower) or replay (a finished job replayed over HTTP pages and over SSE)")
  String mode;
  @Option(names = {"--server-pid", "--rss-pid"}, defaultValue = "0",
    description = "the tokenbus JVM, for CPU time and memory (its RSS sampled every second)") long serverPid;
  @Option(names = "--redis-pid", defaultValue = "0", description = "redis-server, for CPU time") long redisPid;
  @Option(names = "--rate", defaultValue = "0", description = "tokens/s per stream the server was started with (reported)")
  double rate;
  @Option(names = "--jobs", defaultValue = "0", description = "idle mode: jobs the streams share (0: one per stream)")
  int jobs;
  @Option(names = "--replays", defaultValue = "5", description = "replay mode: timed replays per transport") int replays;
  @Option(names = "--compress", description = "ask for compression: Accept-Encoding: gzip on SSE, permessage-deflate on the bridge")
  boolean compress;
  @Option(names = "--interactive-percent", defaultValue = "100",
    description = "share of streams submitted with priority interactive, spread evenly; the rest are background")
  int interactivePercent;
  @Option(names = "--unfollowed", description = "with --interactive-percent: the other streams' jobs are submitted as "
    + "interactive and never followed (a server that treats jobs nobody follows as background must tell them apart)")
  boolean unfollowed;

  private final Delivery delivery = new Delivery();
  /** With --unfollowed: the jobs submitted and never followed ({jobId, streamToken}). */
  private final List<JsonObject> unfollowedJobs = java.util.Collections.synchronizedList(new ArrayList<>());
  /** Streams whose server agreed to compress (Content-Encoding: gzip, or permessage-deflate negotiated). */
  private final AtomicLong compressed = new AtomicLong();
  final AtomicLong ended = new AtomicLong();
  final AtomicLong failed = new AtomicLong();
  final AtomicLong opened = new AtomicLong();
  private Vertx vertx;

  public static void main(String[] args) {
    System.exit(new CommandLine(new StreamBench()).execute(args));
  }

  @Override
  public Integer call() throws Exception {
    if (interactivePercent < 0 || interactivePercent > 100) {
      throw new CommandLine.ParameterException(new CommandLine(this), "--interactive-percent must be 0..100");
    }
    vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(eventLoops));
    HttpClient http = vertx.createHttpClient(new HttpClientOptions().setDefaultHost(host).setDefaultPort(port)
      .setKeepAlive(true), new PoolOptions().setHttp1MaxSize(streams + 16));
    WebSocketClient ws = vertx.createWebSocketClient(new WebSocketClientOptions().setMaxConnections(streams + 16)
      .setTryUsePerMessageCompression(compress));
    try {
      return switch (mode) {
        case "stream" -> stream(http, ws);
        case "idle" -> new IdleFollowers(this, http, ws).run();
        case "replay" -> new ReplayTiming(this, http).run();
        default -> throw new CommandLine.ParameterException(new CommandLine(this), "unknown --mode " + mode);
      };
    } finally {
      vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
  }

  Vertx vertx() {
    return vertx;
  }

  private int stream(HttpClient http, WebSocketClient ws) throws Exception {
    long interval = Math.max(1, 1000 / submitPerSecond);
    int perTick = Math.max(1, submitPerSecond / 1000);
    int[] started = {0};
    vertx.setPeriodic(interval, id -> {
      for (int i = 0; i < perTick && started[0] < streams; i++) {
        int n = started[0]++;
        Future<?> opening = unfollowed && !interactive(n) ? submit(http, n).onSuccess(job -> {
            unfollowedJobs.add(job);
            opened.incrementAndGet();
          })
          : transport.equals("sockjs") ? openSockJs(http, ws, n) : open(http, n);
        opening.onFailure(e -> {
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
    return measure(http);
  }

  /** The measured window: a line per second, then the RESULT line. */
  private int measure(HttpClient http) throws Exception {
    Delivery d = delivery;
    boolean mixed = interactivePercent < 100;
    d.latency.reset();
    d.classLatency[0].reset();
    d.classLatency[1].reset();
    ServerProbe.CpuWindow cpu = new ServerProbe.CpuWindow(serverPid, redisPid).start();
    long wire0 = HostCounters.bytesReceivedFrom(port);
    long unfollowed0 = storedChunks(http, unfollowedJobs);
    long t0 = System.nanoTime();
    long tok0 = d.tokens.get();
    long ch0 = d.chunks.get();
    long[] classTok0 = {d.classTokens[0].get(), d.classTokens[1].get()};
    Histogram total = Delivery.histogram();
    Histogram[] classTotal = {Delivery.histogram(), Delivery.histogram()};
    JsonArray rss = new JsonArray();
    for (int s = 0; s < seconds; s++) {
      long before = d.tokens.get();
      long[] classBefore = {d.classTokens[0].get(), d.classTokens[1].get()};
      Thread.sleep(1000);
      Histogram h = d.latency.getIntervalHistogram();
      total.add(h);
      StringBuilder line = new StringBuilder(String.format("t=%2ds tokens/s=%6d p50=%.2fms p99=%.2fms max=%.2fms", s + 1,
        d.tokens.get() - before, h.getValueAtPercentile(50) / 1000.0, h.getValueAtPercentile(99) / 1000.0,
        h.getMaxValue() / 1000.0));
      for (int k = 0; mixed && k < 2; k++) {
        Histogram ch = d.classLatency[k].getIntervalHistogram();
        classTotal[k].add(ch);
        line.append(String.format(" | %s tokens/s=%6d p99=%.2fms", k == Delivery.INTERACTIVE ? "int" : "bg",
          d.classTokens[k].get() - classBefore[k], ch.getValueAtPercentile(99) / 1000.0));
      }
      long kb = serverPid > 0 ? ServerProbe.rssKb(serverPid) : -1;
      if (kb > 0) {
        rss.add(kb / 1024);
        line.append(" rss=").append(kb / 1024).append("MiB");
      }
      System.out.println(line);
    }
    double secs = (System.nanoTime() - t0) / 1e9;
    long unfollowedChunks = storedChunks(http, unfollowedJobs) - unfollowed0;
    cpu.stop();
    long wire = HostCounters.bytesReceivedFrom(port) - wire0;
    long measuredTokens = d.tokens.get() - tok0;
    JsonObject report = new JsonObject()
      .put("transport", transport).put("streams", streams).put("batch", batch)
      .put("offeredTokensPerSecond", Math.round(rate * streams)).put("measuredSeconds", Math.round(secs * 10) / 10.0)
      .put("tokensPerSecond", Math.round(measuredTokens / secs))
      // µs of CPU of the tokenbus JVM and of redis-server per delivered token over the measured window (-1: no pid)
      .put("cpu_us_per_token_jvm", cpu.jvmPer(measuredTokens))
      .put("cpu_us_per_token_jvm_jit", cpu.jitPer(measuredTokens)).put("cpu_us_per_token_redis", cpu.redisPer(measuredTokens))
      // TCP payload the bench's sockets received from the server in the window (kernel counters; -1: no `ss`)
      .put("wireBytesPerToken", wire0 < 0 || measuredTokens == 0 ? -1 : Math.round(wire * 10.0 / measuredTokens) / 10.0)
      .put("compression", new JsonObject().put("requested", compress).put("streamsCompressed", compressed.get()))
      .put("chunksPerSecond", Math.round((d.chunks.get() - ch0) / secs))
      .put("latencyMs", Delivery.latencyMs(total))
      .put("gaps", d.gaps()).put("duplicates", d.duplicates()).put("streamsEnded", ended.get())
      .put("streamsFailed", failed.get());
    if (mixed) {
      report.put("interactivePercent", interactivePercent).put("unfollowed", unfollowed);
      if (unfollowed) { // what the jobs nobody follows stored meanwhile (their lastSequence before and after)
        report.put("unfollowedChunksPerSecond", Math.round(unfollowedChunks / secs));
      }
      for (int k = 0; k < 2; k++) {
        report.put(k == Delivery.INTERACTIVE ? "interactive" : "background", Delivery.latencyMs(classTotal[k])
          .put("tokensPerSecond", Math.round((d.classTokens[k].get() - classTok0[k]) / secs)));
      }
    }
    if (!rss.isEmpty()) {
      report.put("serverRssMiBPerSecond", rss);
    }
    System.out.println("RESULT " + report.encode());
    return d.gaps() == 0 && d.duplicates() == 0 ? 0 : 1;
  }

  /** The sum of the jobs' lastSequence as the server answers it now (GET /api/jobs/{id}, 64 at a time). */
  private static long storedChunks(HttpClient http, List<JsonObject> jobs) throws Exception {
    List<JsonObject> all;
    synchronized (jobs) {
      all = List.copyOf(jobs);
    }
    long sum = 0;
    for (int i = 0; i < all.size(); i += 64) {
      List<Future<Long>> page = new ArrayList<>();
      for (JsonObject job : all.subList(i, Math.min(all.size(), i + 64))) {
        page.add(http.request(HttpMethod.GET, "/api/jobs/" + job.getString("jobId"))
          .compose(req -> req.putHeader("authorization", "Bearer " + job.getString("streamToken")).send()
            .compose(resp -> resp.body().map(b -> new JsonObject(b).getLong("lastSequence", 0L)))));
      }
      for (Future<Long> f : page) {
        sum += f.toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
      }
    }
    return sum;
  }

  Future<JsonObject> submit(HttpClient http, int n) {
    JsonObject body = new JsonObject().put("prompt", "bench stream " + n).put("batch", batch);
    if (interactivePercent < 100) { // else no priority field, so an older server that has none accepts the body
      body.put("priority", interactive(n) || unfollowed ? "interactive" : "background");
    }
    return http.request(HttpMethod.POST, "/api/jobs")
      .compose(req -> req.putHeader("content-type", "application/json").send(body.toBuffer())
        .compose(resp -> resp.body().map(b -> {
          if (resp.statusCode() != 202) {
            throw new IllegalStateException("submit answered " + resp.statusCode() + " " + b);
          }
          return new JsonObject(b);
        })));
  }

  /**
   * One SockJS websocket per stream speaking the bridge frames, as the browser client does: register
   * job.&lt;id&gt;.chunk and .status with the token, then job.replay from 0.
   */
  private Future<Void> openSockJs(HttpClient http, WebSocketClient ws, int n) {
    return submit(http, n).compose(job -> followSockJs(ws, job, n));
  }

  Future<Void> followSockJs(WebSocketClient ws, JsonObject job, int n) {
    return ws.connect(new WebSocketConnectOptions().setHost(host).setPort(port)
        .setURI("/eventbus/" + (100 + n % 800) + "/" + java.util.UUID.randomUUID().toString().replace("-", "") + "/websocket"))
      .map(socket -> {
        String id = job.getString("jobId");
        String extensions = socket.headers().get("sec-websocket-extensions");
        if (extensions != null && extensions.contains("permessage-deflate")) {
          compressed.incrementAndGet();
        }
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
      });
  }

  /** Spreads the interactive streams evenly over the opening order (stream n is interactive when the count of
   *  interactive streams among the first n+1 goes up). */
  private boolean interactive(int n) {
    return (long) (n + 1) * interactivePercent / 100 != (long) n * interactivePercent / 100;
  }

  private long[] newStream(int n) {
    return delivery.newStream(interactivePercent >= 100 || interactive(n) ? Delivery.INTERACTIVE : Delivery.BACKGROUND);
  }

  private void chunk(JsonObject c, long[] last) {
    JsonObject meta = c.getJsonObject("metadata");
    delivery.record(c.getLong("sequence"), c.getLong("timestamp"), meta == null ? 1 : meta.getInteger("tokens", 1), last);
  }

  private static void send(WebSocket socket, JsonObject frame) {
    socket.writeTextMessage(new io.vertx.core.json.JsonArray().add(frame.encode()).encode());
  }

  private Future<Void> open(HttpClient http, int n) {
    return submit(http, n).compose(job -> followSse(http, job, n));
  }

  Future<Void> followSse(HttpClient http, JsonObject job, int n) {
    return http.request(new RequestOptions().setMethod(HttpMethod.GET)
        .setURI("/api/jobs/" + job.getString("jobId") + "/events?token=" + job.getString("streamToken"))
        .putHeader("accept-encoding", compress ? "gzip" : "identity"))
      .compose(req -> req.send().compose(resp -> {
        if (resp.statusCode() != 200) {
          return Future.failedFuture("events answered " + resp.statusCode());
        }
        long[] last = newStream(n);
        RecordParser lines = RecordParser.newDelimited("\n", line -> onLine(line, last));
        if ("gzip".equals(resp.getHeader("content-encoding"))) {
          compressed.incrementAndGet();
          GzipStream gzip = new GzipStream();
          resp.handler(b -> lines.handle(gzip.inflate(b)));
        } else {
          resp.handler(lines);
        }
        resp.endHandler(v -> ended.incrementAndGet());
        opened.incrementAndGet();
        return Future.succeededFuture();
      }));
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
    delivery.record(seq, number(s, "\"timestamp\":"), t > 0 ? t : 1, last);
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
