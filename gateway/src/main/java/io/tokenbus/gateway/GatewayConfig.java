package io.tokenbus.gateway;

import io.vertx.core.json.JsonObject;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.Base64;
import java.util.Map;

/**
 * Settings of a gateway node. Every limit is explicit here.
 *
 * @param host, port            where the HTTP server listens ({@code TOKENBUS_HTTP_HOST}, {@code TOKENBUS_HTTP_PORT})
 * @param tokenSecret           HMAC key for stream tokens; all gateways of a deployment must share it
 *                              ({@code TOKENBUS_TOKEN_SECRET}, base64). Random when unset (single node only).
 * @param tokenTtl              lifetime of a stream token
 * @param maxBodyBytes          largest HTTP body or bridge frame accepted (413 beyond)
 * @param submitsPerMinute      job submissions per client address per minute (429 beyond)
 * @param maxStreams            concurrent SSE streams plus bridge sockets on this node (429 beyond)
 * @param maxSubscriptionsPerSocket jobs one bridge socket may follow at once
 * @param maxPendingPerStream   live events a stream may hold back while it repairs a gap (it is closed beyond; the
 *                              client resumes from its last sequence)
 * @param replayPageSize        chunks per checkpoint read
 * @param cancelGraceMs         how long a cancel waits for the worker before the gateway closes the job itself
 * @param idlePollMs            a followed job that is silent this long is checked against the checkpoint store
 * @param pingTimeoutMs         a bridge socket without a ping for this long is closed
 * @param sseHeartbeatMs        comment line sent on idle SSE streams to keep proxies from closing them
 * @param maxQueuedBytesPerStream bytes an SSE stream or bridge socket may hold unwritten; a client beyond it is not
 *                              reading and is dropped (it resumes by replay); replayed history pauses at a quarter
 *                              ({@code TOKENBUS_STREAM_MAX_QUEUED_BYTES})
 * @param bridgeReplayGraceMs   a bridge registration holds live events until the socket's {@code job.replay} says
 *                              where the client stands, at most this long ({@code TOKENBUS_BRIDGE_REPLAY_GRACE_MS})
 * @param maxRequestsPerSocket  bridge requests (replay, submit, cancel) one socket may have in flight; 429 beyond
 */
public record GatewayConfig(String host, int port, byte[] tokenSecret, Duration tokenTtl, int maxBodyBytes,
                            int submitsPerMinute, int maxStreams, int maxSubscriptionsPerSocket, int maxPendingPerStream,
                            int replayPageSize, long cancelGraceMs, long idlePollMs, long pingTimeoutMs,
                            long sseHeartbeatMs, int maxQueuedBytesPerStream, long bridgeReplayGraceMs,
                            int maxRequestsPerSocket) {

  public GatewayConfig {
    if (tokenSecret == null || tokenSecret.length < 16) {
      throw new IllegalArgumentException("token secret must be at least 16 bytes");
    }
    if (port < 0 || maxBodyBytes < 1024 || submitsPerMinute < 1 || maxStreams < 1 || maxSubscriptionsPerSocket < 1
      || maxPendingPerStream < 1 || replayPageSize < 1 || cancelGraceMs < 1 || idlePollMs < 10 || pingTimeoutMs < 100
      || sseHeartbeatMs < 100 || maxQueuedBytesPerStream < 16 * 1024 || bridgeReplayGraceMs < 0 || maxRequestsPerSocket < 1) {
      throw new IllegalArgumentException("invalid gateway configuration");
    }
  }

  public static GatewayConfig defaults() {
    return new GatewayConfig("0.0.0.0", 8080, randomSecret(), Duration.ofHours(24), 65536, 120, 20_000, 128, 10_000,
      2000, 500, 1000, 15_000, 15_000, 1024 * 1024, 2000, 16);
  }

  public GatewayConfig withPort(int p) {
    return new GatewayConfig(host, p, tokenSecret, tokenTtl, maxBodyBytes, submitsPerMinute, maxStreams,
      maxSubscriptionsPerSocket, maxPendingPerStream, replayPageSize, cancelGraceMs, idlePollMs, pingTimeoutMs, sseHeartbeatMs,
      maxQueuedBytesPerStream, bridgeReplayGraceMs, maxRequestsPerSocket);
  }

  public GatewayConfig withSecret(byte[] s) {
    return new GatewayConfig(host, port, s, tokenTtl, maxBodyBytes, submitsPerMinute, maxStreams,
      maxSubscriptionsPerSocket, maxPendingPerStream, replayPageSize, cancelGraceMs, idlePollMs, pingTimeoutMs, sseHeartbeatMs,
      maxQueuedBytesPerStream, bridgeReplayGraceMs, maxRequestsPerSocket);
  }

  public GatewayConfig withSubmitsPerMinute(int n) {
    return new GatewayConfig(host, port, tokenSecret, tokenTtl, maxBodyBytes, n, maxStreams,
      maxSubscriptionsPerSocket, maxPendingPerStream, replayPageSize, cancelGraceMs, idlePollMs, pingTimeoutMs, sseHeartbeatMs,
      maxQueuedBytesPerStream, bridgeReplayGraceMs, maxRequestsPerSocket);
  }

  public GatewayConfig withReplayPageSize(int n) {
    return new GatewayConfig(host, port, tokenSecret, tokenTtl, maxBodyBytes, submitsPerMinute, maxStreams,
      maxSubscriptionsPerSocket, maxPendingPerStream, n, cancelGraceMs, idlePollMs, pingTimeoutMs, sseHeartbeatMs,
      maxQueuedBytesPerStream, bridgeReplayGraceMs, maxRequestsPerSocket);
  }

  public static byte[] randomSecret() {
    byte[] b = new byte[32];
    new SecureRandom().nextBytes(b);
    return b;
  }

  public static GatewayConfig fromEnv(Map<String, String> env) {
    GatewayConfig d = defaults();
    String secret = env.get("TOKENBUS_TOKEN_SECRET");
    return new GatewayConfig(
      env.getOrDefault("TOKENBUS_HTTP_HOST", d.host),
      Integer.parseInt(env.getOrDefault("TOKENBUS_HTTP_PORT", String.valueOf(d.port))),
      secret == null ? d.tokenSecret : Base64.getDecoder().decode(secret),
      Duration.ofSeconds(Long.parseLong(env.getOrDefault("TOKENBUS_TOKEN_TTL_SECONDS", String.valueOf(d.tokenTtl.toSeconds())))),
      Integer.parseInt(env.getOrDefault("TOKENBUS_MAX_BODY_BYTES", String.valueOf(d.maxBodyBytes))),
      Integer.parseInt(env.getOrDefault("TOKENBUS_SUBMITS_PER_MINUTE", String.valueOf(d.submitsPerMinute))),
      Integer.parseInt(env.getOrDefault("TOKENBUS_MAX_STREAMS", String.valueOf(d.maxStreams))),
      Integer.parseInt(env.getOrDefault("TOKENBUS_MAX_SUBSCRIPTIONS_PER_SOCKET", String.valueOf(d.maxSubscriptionsPerSocket))),
      d.maxPendingPerStream, d.replayPageSize,
      Long.parseLong(env.getOrDefault("TOKENBUS_CANCEL_GRACE_MS", String.valueOf(d.cancelGraceMs))),
      Long.parseLong(env.getOrDefault("TOKENBUS_IDLE_POLL_MS", String.valueOf(d.idlePollMs))),
      d.pingTimeoutMs, d.sseHeartbeatMs,
      Integer.parseInt(env.getOrDefault("TOKENBUS_STREAM_MAX_QUEUED_BYTES", String.valueOf(d.maxQueuedBytesPerStream))),
      Long.parseLong(env.getOrDefault("TOKENBUS_BRIDGE_REPLAY_GRACE_MS", String.valueOf(d.bridgeReplayGraceMs))),
      Integer.parseInt(env.getOrDefault("TOKENBUS_MAX_REQUESTS_PER_SOCKET", String.valueOf(d.maxRequestsPerSocket))));
  }

  public JsonObject toJson() {
    return new JsonObject().put("host", host).put("port", port).put("tokenTtlSeconds", tokenTtl.toSeconds())
      .put("maxBodyBytes", maxBodyBytes).put("submitsPerMinute", submitsPerMinute).put("maxStreams", maxStreams)
      .put("maxSubscriptionsPerSocket", maxSubscriptionsPerSocket).put("idlePollMs", idlePollMs)
      .put("maxQueuedBytesPerStream", maxQueuedBytesPerStream).put("bridgeReplayGraceMs", bridgeReplayGraceMs)
      .put("maxRequestsPerSocket", maxRequestsPerSocket);
  }
}
