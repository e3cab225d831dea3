package io.tokenbus.checkpoint;

import io.tokenbus.runtime.Env;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Settings of the checkpoint store.
 *
 * @param redisUrl          where Redis is ({@code REDIS_URL}): one {@code redis://} URL, or with {@code cluster} and
 *                          {@code sentinel} several separated by commas (seed nodes, or the sentinels)
 * @param redisMode         how Redis is deployed ({@code TOKENBUS_REDIS_MODE}: standalone, cluster, sentinel)
 * @param masterName        the master's name the sentinels monitor; sentinel mode only ({@code TOKENBUS_REDIS_MASTER_NAME})
 * @param retention         how long a job's chunks are kept after its last write ({@code TOKENBUS_RETENTION_SECONDS})
 * @param maxReplayChunks   cap on chunks returned by one replay; callers page with {@code afterSequence}
 *                          ({@code TOKENBUS_REPLAY_MAX_CHUNKS})
 * @param maxPending        bound of the queue of writes (open, append, lease, terminals) waiting to be pipelined;
 *                          beyond it writers get {@code overloaded} ({@code TOKENBUS_CHECKPOINT_MAX_PENDING})
 * @param maxPendingReads   bound of the separate, lower-priority queue of reads (replays, status reads); beyond it
 *                          readers get {@code overloaded} while writes still go ({@code TOKENBUS_CHECKPOINT_MAX_PENDING_READS})
 * @param maxBatch          commands per pipelined round trip
 * @param maxInFlight       pipelined round trips in flight at once per connection; reads may use all but one
 * @param connections       dedicated Redis connections ({@code TOKENBUS_REDIS_CONNECTIONS})
 * @param initialLease      a new job's worker lease: if no worker renews it by then, readers close the job as
 *                          {@code worker_lost} ({@code TOKENBUS_WORKER_LEASE_SECONDS})
 * @param redisTimeout      deadline of every Redis command, queueing included, and of a connection's handshake; a
 *                          connection that leaves a round trip unanswered this long is closed and replaced
 *                          ({@code TOKENBUS_REDIS_TIMEOUT_MS})
 * @param reconnectMaxDelay longest wait between two reconnection attempts (the backoff doubles up to it)
 *                          ({@code TOKENBUS_REDIS_RECONNECT_MAX_MS})
 * @param replayCacheBytes  memory for long pages of finished jobs, answered again without Redis (see
 *                          {@code FinishedPages}); 0 turns it off ({@code TOKENBUS_REPLAY_CACHE_BYTES})
 */
public record CheckpointConfig(String redisUrl, RedisMode redisMode, String masterName, Duration retention, int maxReplayChunks, int maxPending,
                               int maxPendingReads, int maxBatch, int maxInFlight, int connections,
                               Duration initialLease, Duration redisTimeout, Duration reconnectMaxDelay,
                               long replayCacheBytes) {

  public CheckpointConfig {
    if (redisUrl == null || redisUrl.isBlank()) {
      throw new IllegalArgumentException("REDIS_URL must be set");
    }
    if (redisMode == null) {
      throw new IllegalArgumentException("TOKENBUS_REDIS_MODE must be set");
    }
    List<String> urls = endpoints(redisUrl);
    for (String u : urls) {
      if (!u.startsWith("redis://") && !u.startsWith("rediss://") && !u.startsWith("unix://")) {
        throw new IllegalArgumentException("REDIS_URL: '" + mask(u) + "' is not a redis:// URL");
      }
    }
    if (redisMode == RedisMode.STANDALONE && urls.size() != 1) {
      throw new IllegalArgumentException("REDIS_URL holds " + urls.size() + " endpoints: with TOKENBUS_REDIS_MODE=standalone"
        + " give one (several are cluster seed nodes or sentinels: set TOKENBUS_REDIS_MODE)");
    }
    if (redisMode == RedisMode.SENTINEL && (masterName == null || masterName.isBlank())) {
      throw new IllegalArgumentException("TOKENBUS_REDIS_MODE=sentinel needs TOKENBUS_REDIS_MASTER_NAME (the name in 'sentinel monitor')");
    }
    if (redisMode != RedisMode.SENTINEL && masterName != null && !masterName.isBlank()) {
      throw new IllegalArgumentException("TOKENBUS_REDIS_MASTER_NAME is only used with TOKENBUS_REDIS_MODE=sentinel");
    }
    requirePositive("retention", retention);
    requirePositive("initialLease (TOKENBUS_WORKER_LEASE_SECONDS)", initialLease);
    requirePositive("reconnectMaxDelay (TOKENBUS_REDIS_RECONNECT_MAX_MS)", reconnectMaxDelay);
    if (redisTimeout == null || redisTimeout.toMillis() < 10) {
      throw new IllegalArgumentException("redisTimeout (TOKENBUS_REDIS_TIMEOUT_MS) must be at least 10 ms");
    }
    if (replayCacheBytes < 0) {
      throw new IllegalArgumentException("TOKENBUS_REPLAY_CACHE_BYTES must be >= 0");
    }
    if (maxReplayChunks < 1 || maxPending < 1 || maxPendingReads < 1 || maxBatch < 1 || maxInFlight < 1 || connections < 1) {
      throw new IllegalArgumentException("checkpoint limits must be >= 1");
    }
  }

  private static void requirePositive(String name, Duration d) {
    if (d == null || d.isNegative() || d.isZero()) {
      throw new IllegalArgumentException(name + " must be positive");
    }
  }

  public static CheckpointConfig defaults(String redisUrl) {
    return new CheckpointConfig(redisUrl, RedisMode.STANDALONE, null, Duration.ofHours(24), 5000, 20_000, 2_000, 128, 4, 2, Duration.ofSeconds(15),
      Duration.ofMillis(2000), Duration.ofMillis(1000), 64L << 20);
  }

  public CheckpointConfig withRetention(Duration d) {
    return new CheckpointConfig(redisUrl, redisMode, masterName, d, maxReplayChunks, maxPending, maxPendingReads, maxBatch, maxInFlight,
      connections, initialLease, redisTimeout, reconnectMaxDelay, replayCacheBytes);
  }

  public CheckpointConfig withMaxReplayChunks(int n) {
    return new CheckpointConfig(redisUrl, redisMode, masterName, retention, n, maxPending, maxPendingReads, maxBatch, maxInFlight,
      connections, initialLease, redisTimeout, reconnectMaxDelay, replayCacheBytes);
  }

  public CheckpointConfig withMaxPending(int writes, int reads) {
    return new CheckpointConfig(redisUrl, redisMode, masterName, retention, maxReplayChunks, writes, reads, maxBatch, maxInFlight,
      connections, initialLease, redisTimeout, reconnectMaxDelay, replayCacheBytes);
  }

  public CheckpointConfig withInitialLease(Duration d) {
    return new CheckpointConfig(redisUrl, redisMode, masterName, retention, maxReplayChunks, maxPending, maxPendingReads, maxBatch, maxInFlight,
      connections, d, redisTimeout, reconnectMaxDelay, replayCacheBytes);
  }

  public CheckpointConfig withRedisTimeout(Duration timeout, Duration reconnectMax) {
    return new CheckpointConfig(redisUrl, redisMode, masterName, retention, maxReplayChunks, maxPending, maxPendingReads, maxBatch, maxInFlight,
      connections, initialLease, timeout, reconnectMax, replayCacheBytes);
  }

  public CheckpointConfig withReplayCacheBytes(long n) {
    return new CheckpointConfig(redisUrl, redisMode, masterName, retention, maxReplayChunks, maxPending, maxPendingReads, maxBatch, maxInFlight,
      connections, initialLease, redisTimeout, reconnectMaxDelay, n);
  }

  public CheckpointConfig withConnections(int n) {
    return new CheckpointConfig(redisUrl, redisMode, masterName, retention, maxReplayChunks, maxPending, maxPendingReads, maxBatch, maxInFlight,
      n, initialLease, redisTimeout, reconnectMaxDelay, replayCacheBytes);
  }

  /** Another Redis deployment: {@code urls} comma-separated, {@code masterName} for sentinel mode only. */
  public CheckpointConfig withRedis(RedisMode mode, String urls, String master) {
    return new CheckpointConfig(urls, mode, master, retention, maxReplayChunks, maxPending, maxPendingReads, maxBatch,
      maxInFlight, connections, initialLease, redisTimeout, reconnectMaxDelay, replayCacheBytes);
  }

  /** The endpoints in {@link #redisUrl}: one, or the cluster seeds or sentinels. */
  public List<String> redisEndpoints() {
    return endpoints(redisUrl);
  }

  private static List<String> endpoints(String urls) {
    return Arrays.stream(urls.split(",")).map(String::strip).filter(u -> !u.isEmpty()).toList();
  }

  public static CheckpointConfig fromEnv(Map<String, String> env, String defaultRedisUrl) {
    CheckpointConfig d = defaults("redis://localhost"); // the numbers; the deployment is checked below
    String master = env.get("TOKENBUS_REDIS_MASTER_NAME");
    String url = env.get("REDIS_URL");
    return new CheckpointConfig(url == null || url.isBlank() ? defaultRedisUrl : url, RedisMode.parse(env.get("TOKENBUS_REDIS_MODE")),
      master == null || master.isBlank() ? null : master.strip(),
      Duration.ofSeconds(Env.whole(env, "TOKENBUS_RETENTION_SECONDS", d.retention.toSeconds())),
      Env.integer(env, "TOKENBUS_REPLAY_MAX_CHUNKS", d.maxReplayChunks),
      Env.integer(env, "TOKENBUS_CHECKPOINT_MAX_PENDING", d.maxPending),
      Env.integer(env, "TOKENBUS_CHECKPOINT_MAX_PENDING_READS", d.maxPendingReads),
      d.maxBatch, d.maxInFlight,
      Env.integer(env, "TOKENBUS_REDIS_CONNECTIONS", d.connections),
      Duration.ofSeconds(Env.whole(env, "TOKENBUS_WORKER_LEASE_SECONDS", d.initialLease.toSeconds())),
      Duration.ofMillis(Env.whole(env, "TOKENBUS_REDIS_TIMEOUT_MS", d.redisTimeout.toMillis())),
      Duration.ofMillis(Env.whole(env, "TOKENBUS_REDIS_RECONNECT_MAX_MS", d.reconnectMaxDelay.toMillis())),
      Env.whole(env, "TOKENBUS_REPLAY_CACHE_BYTES", d.replayCacheBytes));
  }

  public JsonObject toJson() {
    JsonObject j = new JsonObject().put("redisMode", redisMode.wire()).put("redisUrl", mask(redisUrl));
    if (masterName != null) {
      j.put("masterName", masterName);
    }
    return j
      .put("retentionSeconds", retention.toSeconds()).put("maxReplayChunks", maxReplayChunks)
      .put("maxPending", maxPending).put("maxPendingReads", maxPendingReads).put("maxBatch", maxBatch)
      .put("maxInFlight", maxInFlight).put("connections", connections).put("initialLeaseMs", initialLease.toMillis())
      .put("redisTimeoutMs", redisTimeout.toMillis()).put("reconnectMaxMs", reconnectMaxDelay.toMillis())
      .put("replayCacheBytes", replayCacheBytes);
  }

  private static String mask(String url) {
    return url.replaceAll("//[^@/,]*@", "//***@");
  }

  /** How Redis is deployed ({@code TOKENBUS_REDIS_MODE}). */
  public enum RedisMode {
    STANDALONE, CLUSTER, SENTINEL;

    public String wire() {
      return name().toLowerCase(Locale.ROOT);
    }

    static RedisMode parse(String v) {
      if (v == null || v.isBlank()) {
        return STANDALONE;
      }
      for (RedisMode m : values()) {
        if (m.wire().equals(v.strip().toLowerCase(Locale.ROOT))) {
          return m;
        }
      }
      throw new IllegalArgumentException("TOKENBUS_REDIS_MODE must be standalone, cluster or sentinel, got '" + v + "'");
    }
  }
}
