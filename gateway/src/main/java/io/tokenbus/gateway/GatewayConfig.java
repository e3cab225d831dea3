package io.tokenbus.gateway;

import io.tokenbus.runtime.Env;
import io.vertx.core.json.JsonObject;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;

/**
 * Settings of a gateway node. Every limit is explicit here.
 *
 * @param host, port            where the HTTP server listens ({@code TOKENBUS_HTTP_HOST}, {@code TOKENBUS_HTTP_PORT})
 * @param tokenSecrets          HMAC keys for stream tokens ({@code TOKENBUS_TOKEN_SECRET}: base64 keys separated by
 *                              commas). The first signs, every one verifies, so a key can be rotated without cutting
 *                              live streams. All gateways of a deployment must share them. Random when unset (single
 *                              node only).
 * @param tokenTtl              lifetime of a stream token
 * @param maxBodyBytes          largest HTTP body or bridge frame accepted (413 beyond)
 * @param submitsPerMinute      job submissions per client address per minute (429 beyond)
 * @param maxStreams            concurrent SSE streams plus bridge sockets on this node (429 beyond)
 * @param maxSubscriptionsPerSocket jobs one bridge socket may follow at once
 * @param maxPendingPerStream   live events a stream may hold back while it repairs a gap (it is closed beyond; the
 *                              client resumes from its last sequence)
 * @param replayPageSize        chunks per checkpoint read
 * @param cancelGraceMs         how long a cancel waits for the worker before the gateway closes the job itself
 * @param workerWaitMs          how long a job whose worker stopped waits for a worker to continue it before it is closed
 *                              {@code worker_lost} ({@code TOKENBUS_WORKER_WAIT_SECONDS}): covers a lone worker
 *                              restarting and workers rejoining the cluster after an eviction
 * @param idlePollMs            a followed job that is silent this long is checked against the checkpoint store
 * @param pingTimeoutMs         a bridge socket without a ping for this long is closed
 * @param sseHeartbeatMs        heartbeat on idle SSE streams (a comment line) and SockJS sockets (an {@code h} frame),
 *                              so neither proxies nor the HTTP idle timeout close a stream that waits for tokens
 * @param connections           per-connection limits and deadlines, see {@link Connections}
 * @param drain                 how the node leaves on SIGTERM, see {@link Drain}
 * @param compression           what the server compresses for clients that ask, see {@link Compression}
 */
public record GatewayConfig(String host, int port, List<byte[]> tokenSecrets, Duration tokenTtl, int maxBodyBytes,
                            int submitsPerMinute, int maxStreams, int maxSubscriptionsPerSocket, int maxPendingPerStream,
                            int replayPageSize, long cancelGraceMs, long workerWaitMs, long idlePollMs, long pingTimeoutMs,
                            long sseHeartbeatMs, Connections connections, Drain drain,
                            Compression compression) {

  /**
   * A draining gateway (SIGTERM, undeploy) is not ready, accepts no connection, and tells its clients to reconnect
   * elsewhere: SSE streams end with a {@code retry:} field, bridge sockets get {@code err} 503 {@code draining} and
   * are closed (docs/protocol.md, "When a gateway drains").
   *
   * @param deadlineMs the longest the node waits for its clients to leave before it closes what is left and exits
   *                   ({@code TOKENBUS_GATEWAY_DRAIN_SECONDS}); 0 closes everything at once
   * @param spreadMs   clients are told to leave spread evenly over this window, so that they do not all reconnect to
   *                   the other gateways in the same instant ({@code TOKENBUS_GATEWAY_DRAIN_SPREAD_MS}); at most
   *                   half the deadline, so that clients have the other half to go
   */
  public record Drain(long deadlineMs, long spreadMs) {
    public Drain {
      require(deadlineMs >= 0, "drain deadline must be >= 0");
      require(spreadMs >= 0 && spreadMs <= deadlineMs / 2, "drain spread must be between 0 and half the drain deadline ("
        + deadlineMs + " ms)");
    }

    public static Drain defaults() {
      return new Drain(30_000, 3000);
    }

    public JsonObject toJson() {
      return new JsonObject().put("deadlineMs", deadlineMs).put("spreadMs", spreadMs);
    }
  }

  /**
   * What one client connection may hold and for how long (docs/protocol.md, "Connection limits").
   *
   * @param maxStreamsPerAddress SSE streams plus bridge sockets one client address may hold open on this node
   *                             ({@code TOKENBUS_MAX_STREAMS_PER_ADDRESS}, 429 {@code too_many_jobs} beyond)
   * @param maxAnonymousSockets  bridge sockets that have not registered for a job with a valid token yet
   *                             ({@code TOKENBUS_MAX_ANONYMOUS_SOCKETS}, default a quarter of {@code maxStreams}); the
   *                             rest of {@code maxStreams} stays available to token holders
   * @param registerDeadlineMs   a bridge socket that has not registered for a job with a valid token within this time
   *                             is closed ({@code TOKENBUS_REGISTER_DEADLINE_SECONDS})
   * @param idleTimeoutMs        an HTTP connection on which nothing is read or written for this long is closed
   *                             ({@code TOKENBUS_HTTP_IDLE_TIMEOUT_SECONDS}); at least twice the heartbeat, so streams
   *                             are never cut by it
   * @param headerTimeoutMs      a new connection must deliver a complete request head within this time
   *                             ({@code TOKENBUS_HEADER_TIMEOUT_SECONDS}); closed otherwise
   * @param maxQueuedBytesPerStream bytes an SSE stream or bridge socket may hold unwritten; a client beyond it is not
   *                             reading and is dropped (it resumes by replay); replayed history pauses at a quarter
   *                             ({@code TOKENBUS_STREAM_MAX_QUEUED_BYTES})
   * @param bridgeReplayGraceMs  a bridge registration holds live events until the socket's {@code job.replay} says
   *                             where the client stands, at most this long ({@code TOKENBUS_BRIDGE_REPLAY_GRACE_MS})
   * @param maxRequestsPerSocket bridge requests (replay, submit, cancel) one socket may have in flight; 429 beyond
   *                             ({@code TOKENBUS_MAX_REQUESTS_PER_SOCKET})
   * @param trustedProxies       addresses of reverse proxies whose {@code X-Forwarded-For} names the client; from
   *                             anyone else the header is ignored ({@code TOKENBUS_TRUSTED_PROXIES}, comma separated)
   * @param maxQueuedTasks       tasks this node's event loop may have waiting before background streams stop taking
   *                             live events and read from the checkpoint store instead (beyond twice it, all
   *                             streams), until it is below a quarter ({@code TOKENBUS_GATEWAY_MAX_QUEUED_TASKS})
   */
  public record Connections(int maxStreamsPerAddress, int maxAnonymousSockets, long registerDeadlineMs, long idleTimeoutMs,
                            long headerTimeoutMs, int maxQueuedBytesPerStream, long bridgeReplayGraceMs,
                            int maxRequestsPerSocket, List<String> trustedProxies, int maxQueuedTasks) {
    public Connections {
      trustedProxies = List.copyOf(trustedProxies);
      require(maxStreamsPerAddress >= 1, "maxStreamsPerAddress must be >= 1");
      require(maxAnonymousSockets >= 1, "maxAnonymousSockets must be >= 1");
      require(registerDeadlineMs >= 100, "registerDeadline must be >= 100 ms");
      require(idleTimeoutMs >= 200, "HTTP idle timeout must be >= 200 ms");
      require(headerTimeoutMs >= 100, "header timeout must be >= 100 ms");
      require(maxQueuedBytesPerStream >= 16 * 1024, "maxQueuedBytesPerStream must be >= 16 KiB");
      require(bridgeReplayGraceMs >= 0, "bridgeReplayGraceMs must be >= 0");
      require(maxRequestsPerSocket >= 1, "maxRequestsPerSocket must be >= 1");
      require(maxQueuedTasks >= 100, "TOKENBUS_GATEWAY_MAX_QUEUED_TASKS must be >= 100");
    }

    public static Connections defaults(int maxStreams) {
      return new Connections(256, Math.max(1, maxStreams / 4), 30_000, 60_000, 10_000, 1024 * 1024, 2000, 16, List.of(), 20_000);
    }

    public Connections withMaxStreamsPerAddress(int n) {
      return new Connections(n, maxAnonymousSockets, registerDeadlineMs, idleTimeoutMs, headerTimeoutMs,
        maxQueuedBytesPerStream, bridgeReplayGraceMs, maxRequestsPerSocket, trustedProxies, maxQueuedTasks);
    }

    public Connections withMaxAnonymousSockets(int n) {
      return new Connections(maxStreamsPerAddress, n, registerDeadlineMs, idleTimeoutMs, headerTimeoutMs,
        maxQueuedBytesPerStream, bridgeReplayGraceMs, maxRequestsPerSocket, trustedProxies, maxQueuedTasks);
    }

    /** The three connection deadlines: registration, HTTP idle, request head. */
    public Connections withDeadlines(long registerMs, long idleMs, long headerMs) {
      return new Connections(maxStreamsPerAddress, maxAnonymousSockets, registerMs, idleMs, headerMs,
        maxQueuedBytesPerStream, bridgeReplayGraceMs, maxRequestsPerSocket, trustedProxies, maxQueuedTasks);
    }

    public JsonObject toJson() {
      return new JsonObject().put("maxStreamsPerAddress", maxStreamsPerAddress).put("maxAnonymousSockets", maxAnonymousSockets)
        .put("registerDeadlineMs", registerDeadlineMs).put("httpIdleTimeoutMs", idleTimeoutMs).put("headerTimeoutMs", headerTimeoutMs)
        .put("maxQueuedBytesPerStream", maxQueuedBytesPerStream).put("bridgeReplayGraceMs", bridgeReplayGraceMs)
        .put("maxRequestsPerSocket", maxRequestsPerSocket).put("trustedProxies", trustedProxies)
        .put("maxQueuedTasks", maxQueuedTasks);
    }
  }

  /**
   * Compression offered to clients that ask for it; a level of 0 is off, 1–9 are zlib levels.
   *
   * @param httpLevel      gzip/deflate of HTTP responses (JSON, SSE, static files) for clients that send
   *                       {@code Accept-Encoding} ({@code TOKENBUS_HTTP_COMPRESSION}). Each write is flushed through
   *                       the compressor on its own (a zlib sync flush), so an SSE event is never held back. Costs
   *                       one deflater per open response (up to 256 KiB of native memory for an SSE stream)
   * @param websocketLevel {@code permessage-deflate} on bridge websockets, for clients that offer it (browsers do)
   *                       ({@code TOKENBUS_WEBSOCKET_COMPRESSION}). One deflater per socket, kept for its life
   */
  public record Compression(int httpLevel, int websocketLevel) {
    public static final int DEFAULT_LEVEL = 6;
    /**
     * On: 7 to 15 times fewer bytes per token for about a fifth more gateway CPU per event (docs/benchmarks.md,
     * "Compression"). The cost to watch is memory, a deflater per compressed stream: see the README's configuration
     * table.
     */
    public static final Compression DEFAULT = new Compression(DEFAULT_LEVEL, DEFAULT_LEVEL);

    public Compression {
      require(httpLevel >= 0 && httpLevel <= 9, "HTTP compression level must be 0 (off) to 9");
      require(websocketLevel >= 0 && websocketLevel <= 9, "websocket compression level must be 0 (off) to 9");
    }

    public boolean http() {
      return httpLevel > 0;
    }

    public boolean websocket() {
      return websocketLevel > 0;
    }

    /** {@code off}, {@code on} (level {@value #DEFAULT_LEVEL}) or a level 1–9. */
    static int level(Map<String, String> env, String name, int defaultLevel) {
      String v = env.get(name);
      if (v == null || v.isBlank()) {
        return defaultLevel;
      }
      return switch (v.trim().toLowerCase(java.util.Locale.ROOT)) {
        case "off", "false", "0" -> 0;
        case "on", "true" -> DEFAULT_LEVEL;
        default -> {
          try {
            int level = Integer.parseInt(v.trim());
            require(level >= 1 && level <= 9, name + " must be off, on or a level 1-9, not " + v);
            yield level;
          } catch (NumberFormatException e) {
            throw new IllegalArgumentException("gateway configuration: " + name + " must be off, on or a level 1-9, not " + v);
          }
        }
      };
    }

    public JsonObject toJson() {
      return new JsonObject().put("http", http() ? "gzip/deflate level " + httpLevel : "off")
        .put("websocket", websocket() ? "permessage-deflate level " + websocketLevel : "off");
    }
  }

  public GatewayConfig {
    if (tokenSecrets == null || tokenSecrets.isEmpty()) {
      throw new IllegalArgumentException("at least one token secret is required");
    }
    tokenSecrets = List.copyOf(tokenSecrets);
    for (int i = 0; i < tokenSecrets.size(); i++) {
      if (tokenSecrets.get(i).length < 16) {
        throw new IllegalArgumentException("token secret " + (i + 1) + " must be at least 16 bytes");
      }
    }
    if (port < 0 || maxBodyBytes < 1024 || submitsPerMinute < 1 || maxStreams < 1 || maxSubscriptionsPerSocket < 1
      || maxPendingPerStream < 1 || replayPageSize < 1 || cancelGraceMs < 1 || workerWaitMs < 0 || idlePollMs < 10 || pingTimeoutMs < 100
      || sseHeartbeatMs < 100) {
      throw new IllegalArgumentException("invalid gateway configuration");
    }
    require(connections != null, "connection limits are required");
    require(drain != null, "drain settings are required");
    require(compression != null, "compression settings are required");
    require(connections.maxAnonymousSockets() <= maxStreams, "maxAnonymousSockets must not exceed maxStreams");
    require(connections.idleTimeoutMs() >= 2 * sseHeartbeatMs,
      "HTTP idle timeout must be at least twice the heartbeat (" + sseHeartbeatMs + " ms), or idle streams would be cut");
  }

  private static void require(boolean ok, String message) {
    if (!ok) {
      throw new IllegalArgumentException("gateway configuration: " + message);
    }
  }

  /** The key that signs new tokens. */
  public byte[] tokenSecret() {
    return tokenSecrets.get(0);
  }

  public static GatewayConfig defaults() {
    return new GatewayConfig("0.0.0.0", 8080, List.of(randomSecret()), Duration.ofHours(24), 65536, 120, 20_000, 128, 10_000,
      2000, 500, 30_000, 1000, 15_000, 15_000, Connections.defaults(20_000), Drain.defaults(), Compression.DEFAULT);
  }

  public GatewayConfig withPort(int p) {
    return new GatewayConfig(host, p, tokenSecrets, tokenTtl, maxBodyBytes, submitsPerMinute, maxStreams,
      maxSubscriptionsPerSocket, maxPendingPerStream, replayPageSize, cancelGraceMs, workerWaitMs, idlePollMs, pingTimeoutMs, sseHeartbeatMs, connections, drain, compression);
  }

  public GatewayConfig withSecret(byte[] s) {
    return withSecrets(List.of(s));
  }

  public GatewayConfig withSecrets(List<byte[]> s) {
    return new GatewayConfig(host, port, s, tokenTtl, maxBodyBytes, submitsPerMinute, maxStreams,
      maxSubscriptionsPerSocket, maxPendingPerStream, replayPageSize, cancelGraceMs, workerWaitMs, idlePollMs, pingTimeoutMs, sseHeartbeatMs, connections, drain, compression);
  }

  public GatewayConfig withSubmitsPerMinute(int n) {
    return new GatewayConfig(host, port, tokenSecrets, tokenTtl, maxBodyBytes, n, maxStreams,
      maxSubscriptionsPerSocket, maxPendingPerStream, replayPageSize, cancelGraceMs, workerWaitMs, idlePollMs, pingTimeoutMs, sseHeartbeatMs, connections, drain, compression);
  }

  public GatewayConfig withReplayPageSize(int n) {
    return new GatewayConfig(host, port, tokenSecrets, tokenTtl, maxBodyBytes, submitsPerMinute, maxStreams,
      maxSubscriptionsPerSocket, maxPendingPerStream, n, cancelGraceMs, workerWaitMs, idlePollMs, pingTimeoutMs, sseHeartbeatMs, connections, drain, compression);
  }

  public GatewayConfig withConnections(Connections c) {
    return new GatewayConfig(host, port, tokenSecrets, tokenTtl, maxBodyBytes, submitsPerMinute, maxStreams,
      maxSubscriptionsPerSocket, maxPendingPerStream, replayPageSize, cancelGraceMs, workerWaitMs, idlePollMs, pingTimeoutMs, sseHeartbeatMs, c, drain, compression);
  }

  public GatewayConfig withCompression(Compression c) {
    return new GatewayConfig(host, port, tokenSecrets, tokenTtl, maxBodyBytes, submitsPerMinute, maxStreams,
      maxSubscriptionsPerSocket, maxPendingPerStream, replayPageSize, cancelGraceMs, workerWaitMs, idlePollMs, pingTimeoutMs, sseHeartbeatMs, connections, drain, c);
  }

  public GatewayConfig withIdlePollMs(long ms) {
    return new GatewayConfig(host, port, tokenSecrets, tokenTtl, maxBodyBytes, submitsPerMinute, maxStreams,
      maxSubscriptionsPerSocket, maxPendingPerStream, replayPageSize, cancelGraceMs, workerWaitMs, ms, pingTimeoutMs, sseHeartbeatMs, connections, drain, compression);
  }

  public GatewayConfig withSseHeartbeatMs(long ms) {
    return new GatewayConfig(host, port, tokenSecrets, tokenTtl, maxBodyBytes, submitsPerMinute, maxStreams,
      maxSubscriptionsPerSocket, maxPendingPerStream, replayPageSize, cancelGraceMs, workerWaitMs, idlePollMs, pingTimeoutMs, ms, connections, drain, compression);
  }

  public GatewayConfig withWorkerWaitMs(long ms) {
    return new GatewayConfig(host, port, tokenSecrets, tokenTtl, maxBodyBytes, submitsPerMinute, maxStreams,
      maxSubscriptionsPerSocket, maxPendingPerStream, replayPageSize, cancelGraceMs, ms, idlePollMs, pingTimeoutMs, sseHeartbeatMs, connections, drain, compression);
  }

  public GatewayConfig withDrain(Drain d) {
    return new GatewayConfig(host, port, tokenSecrets, tokenTtl, maxBodyBytes, submitsPerMinute, maxStreams,
      maxSubscriptionsPerSocket, maxPendingPerStream, replayPageSize, cancelGraceMs, workerWaitMs, idlePollMs, pingTimeoutMs, sseHeartbeatMs, connections, d, compression);
  }

  public static byte[] randomSecret() {
    byte[] b = new byte[32];
    new SecureRandom().nextBytes(b);
    return b;
  }

  public static GatewayConfig fromEnv(Map<String, String> env) {
    GatewayConfig d = defaults();
    String secret = env.get("TOKENBUS_TOKEN_SECRET");
    int maxStreams = Env.integer(env, "TOKENBUS_MAX_STREAMS", d.maxStreams);
    Connections c = Connections.defaults(maxStreams);
    return new GatewayConfig(
      env.getOrDefault("TOKENBUS_HTTP_HOST", d.host),
      Env.integer(env, "TOKENBUS_HTTP_PORT", d.port),
      secret == null ? d.tokenSecrets : parseSecrets(secret),
      Duration.ofSeconds(Env.whole(env, "TOKENBUS_TOKEN_TTL_SECONDS", d.tokenTtl.toSeconds())),
      Env.integer(env, "TOKENBUS_MAX_BODY_BYTES", d.maxBodyBytes),
      Env.integer(env, "TOKENBUS_SUBMITS_PER_MINUTE", d.submitsPerMinute),
      maxStreams,
      Env.integer(env, "TOKENBUS_MAX_SUBSCRIPTIONS_PER_SOCKET", d.maxSubscriptionsPerSocket),
      d.maxPendingPerStream, d.replayPageSize,
      Env.whole(env, "TOKENBUS_CANCEL_GRACE_MS", d.cancelGraceMs),
      seconds(env, "TOKENBUS_WORKER_WAIT_SECONDS", d.workerWaitMs),
      Env.whole(env, "TOKENBUS_IDLE_POLL_MS", d.idlePollMs),
      d.pingTimeoutMs, d.sseHeartbeatMs,
      new Connections(
        Env.integer(env, "TOKENBUS_MAX_STREAMS_PER_ADDRESS", c.maxStreamsPerAddress()),
        Env.integer(env, "TOKENBUS_MAX_ANONYMOUS_SOCKETS", c.maxAnonymousSockets()),
        seconds(env, "TOKENBUS_REGISTER_DEADLINE_SECONDS", c.registerDeadlineMs()),
        seconds(env, "TOKENBUS_HTTP_IDLE_TIMEOUT_SECONDS", c.idleTimeoutMs()),
        seconds(env, "TOKENBUS_HEADER_TIMEOUT_SECONDS", c.headerTimeoutMs()),
        Env.integer(env, "TOKENBUS_STREAM_MAX_QUEUED_BYTES", c.maxQueuedBytesPerStream()),
        Env.whole(env, "TOKENBUS_BRIDGE_REPLAY_GRACE_MS", c.bridgeReplayGraceMs()),
        Env.integer(env, "TOKENBUS_MAX_REQUESTS_PER_SOCKET", c.maxRequestsPerSocket()),
        java.util.Arrays.stream(env.getOrDefault("TOKENBUS_TRUSTED_PROXIES", "").split(",")).map(String::trim)
          .filter(a -> !a.isEmpty()).toList(),
        Env.integer(env, "TOKENBUS_GATEWAY_MAX_QUEUED_TASKS", c.maxQueuedTasks())),
      drain(env, d.drain), compression(env, d.compression));
  }

  /** A deadline set without a spread gets the default spread, shortened to fit (0 s: close at once). */
  private static Drain drain(Map<String, String> env, Drain d) {
    long deadline = seconds(env, "TOKENBUS_GATEWAY_DRAIN_SECONDS", d.deadlineMs());
    return new Drain(deadline, Env.whole(env, "TOKENBUS_GATEWAY_DRAIN_SPREAD_MS", Math.min(d.spreadMs(), deadline / 2)));
  }

  private static Compression compression(Map<String, String> env, Compression d) {
    return new Compression(Compression.level(env, "TOKENBUS_HTTP_COMPRESSION", d.httpLevel()),
      Compression.level(env, "TOKENBUS_WEBSOCKET_COMPRESSION", d.websocketLevel()));
  }

  private static long seconds(Map<String, String> env, String name, long defaultMs) {
    return Math.round(Env.decimal(env, name, defaultMs / 1000.0) * 1000);
  }

  /** {@code TOKENBUS_TOKEN_SECRET}: one base64 key, or several separated by commas (the first signs). */
  static List<byte[]> parseSecrets(String value) {
    List<byte[]> keys = new ArrayList<>();
    String[] parts = value.split(",", -1);
    for (int i = 0; i < parts.length; i++) {
      String p = parts[i].trim();
      if (p.isEmpty()) {
        throw new IllegalArgumentException("TOKENBUS_TOKEN_SECRET: key " + (i + 1) + " is empty");
      }
      try {
        keys.add(Base64.getDecoder().decode(p));
      } catch (IllegalArgumentException e) {
        // The value itself is not echoed: it is a secret.
        throw new IllegalArgumentException("TOKENBUS_TOKEN_SECRET: key " + (i + 1) + " is not valid base64");
      }
    }
    return keys;
  }

  public JsonObject toJson() {
    return new JsonObject().put("host", host).put("port", port).put("tokenKeys", tokenSecrets.size())
      .put("tokenTtlSeconds", tokenTtl.toSeconds())
      .put("maxBodyBytes", maxBodyBytes).put("submitsPerMinute", submitsPerMinute).put("maxStreams", maxStreams)
      .put("maxSubscriptionsPerSocket", maxSubscriptionsPerSocket).put("workerWaitMs", workerWaitMs).put("idlePollMs", idlePollMs)
      .put("heartbeatMs", sseHeartbeatMs).put("connections", connections.toJson()).put("drain", drain.toJson())
      .put("compression", compression.toJson());
  }
}
