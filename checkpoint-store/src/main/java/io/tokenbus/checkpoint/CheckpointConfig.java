package io.tokenbus.checkpoint;

import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.Map;

/**
 * Settings of the checkpoint store.
 *
 * @param redisUrl          where Redis is ({@code REDIS_URL})
 * @param retention         how long a job's chunks are kept after its last write ({@code TOKENBUS_RETENTION_SECONDS})
 * @param maxReplayChunks   cap on chunks returned by one replay; callers page with {@code afterSequence}
 * @param maxPending        bound of the queue of Redis commands waiting to be pipelined; beyond it callers get
 *                          {@code overloaded}
 * @param maxBatch          commands per pipelined round trip
 * @param maxInFlight       pipelined round trips in flight at once
 * @param poolSize          Redis connections
 * @param initialLease      a new job's worker lease: if no worker renews it by then, readers close the job as
 *                          {@code worker_lost} ({@code TOKENBUS_WORKER_LEASE_SECONDS})
 */
public record CheckpointConfig(String redisUrl, Duration retention, int maxReplayChunks, int maxPending, int maxBatch,
                               int maxInFlight, int poolSize, Duration initialLease) {

  public CheckpointConfig {
    if (retention.isNegative() || retention.isZero()) {
      throw new IllegalArgumentException("retention must be positive");
    }
    if (maxReplayChunks < 1 || maxPending < 1 || maxBatch < 1 || maxInFlight < 1 || poolSize < 1) {
      throw new IllegalArgumentException("checkpoint limits must be >= 1");
    }
  }

  public static CheckpointConfig defaults(String redisUrl) {
    return new CheckpointConfig(redisUrl, Duration.ofHours(24), 5000, 20_000, 128, 4, 8, Duration.ofSeconds(15));
  }

  public CheckpointConfig withRetention(Duration d) {
    return new CheckpointConfig(redisUrl, d, maxReplayChunks, maxPending, maxBatch, maxInFlight, poolSize, initialLease);
  }

  public CheckpointConfig withMaxReplayChunks(int n) {
    return new CheckpointConfig(redisUrl, retention, n, maxPending, maxBatch, maxInFlight, poolSize, initialLease);
  }

  public CheckpointConfig withMaxPending(int n) {
    return new CheckpointConfig(redisUrl, retention, maxReplayChunks, n, maxBatch, maxInFlight, poolSize, initialLease);
  }

  public static CheckpointConfig fromEnv(Map<String, String> env, String defaultRedisUrl) {
    CheckpointConfig d = defaults(env.getOrDefault("REDIS_URL", defaultRedisUrl));
    return new CheckpointConfig(d.redisUrl,
      Duration.ofSeconds(Long.parseLong(env.getOrDefault("TOKENBUS_RETENTION_SECONDS", String.valueOf(d.retention.toSeconds())))),
      Integer.parseInt(env.getOrDefault("TOKENBUS_REPLAY_MAX_CHUNKS", String.valueOf(d.maxReplayChunks))),
      Integer.parseInt(env.getOrDefault("TOKENBUS_CHECKPOINT_MAX_PENDING", String.valueOf(d.maxPending))),
      d.maxBatch, d.maxInFlight,
      Integer.parseInt(env.getOrDefault("TOKENBUS_REDIS_POOL", String.valueOf(d.poolSize))),
      Duration.ofSeconds(Long.parseLong(env.getOrDefault("TOKENBUS_WORKER_LEASE_SECONDS", String.valueOf(d.initialLease.toSeconds())))));
  }

  public JsonObject toJson() {
    return new JsonObject().put("redisUrl", redisUrl.replaceAll("//[^@/]*@", "//***@"))
      .put("retentionSeconds", retention.toSeconds()).put("maxReplayChunks", maxReplayChunks)
      .put("maxPending", maxPending).put("maxBatch", maxBatch).put("maxInFlight", maxInFlight).put("poolSize", poolSize);
  }
}
