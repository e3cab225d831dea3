package io.tokenbus.worker;

import io.vertx.core.json.JsonObject;
import java.util.Map;

/**
 * Settings of an agent worker.
 *
 * @param maxConcurrentJobs   jobs this worker runs at once; beyond it submissions get {@code too_many_jobs} (429).
 *                            Background jobs may use only half of it, keeping room for interactive ones.
 * @param localTokensPerSecond pace of the built-in generator
 * @param localMaxTokens      length of a built-in generator answer, in tokens
 * @param flushDelayMs        a partial batch is sent after this delay, so a slow model never holds text back
 * @param maxBufferedChunks   chunks a job may hold while the checkpoint store catches up; above it the model is
 *                            paused (never dropped)
 * @param maxBufferedChunksPerWorker the same bound summed over all jobs of the worker
 * @param maxChunksPerAppend  chunks per checkpoint write
 * @param appendRetries       attempts of a checkpoint write before the job fails with checkpoint_failed
 * @param maxResultChars      {@code result} on job:completed is omitted for longer outputs (they stay replayable);
 *                            bounds the memory a job holds for it
 */
public record WorkerConfig(int maxConcurrentJobs, double localTokensPerSecond, int localMaxTokens, long flushDelayMs,
                           int maxBufferedChunks, int maxBufferedChunksPerWorker, int maxChunksPerAppend, int appendRetries,
                           int maxResultChars) {

  public WorkerConfig {
    if (maxConcurrentJobs < 1 || localTokensPerSecond <= 0 || localMaxTokens < 1 || flushDelayMs < 1
      || maxBufferedChunks < 2 || maxBufferedChunksPerWorker < 2 || maxChunksPerAppend < 1 || appendRetries < 0 || maxResultChars < 0) {
      throw new IllegalArgumentException("invalid worker configuration");
    }
  }

  public static WorkerConfig defaults() {
    return new WorkerConfig(2000, 30, 240, 20, 256, 32_768, 128, 5, 100_000);
  }

  public WorkerConfig withLocalGenerator(double tokensPerSecond, int maxTokens) {
    return new WorkerConfig(maxConcurrentJobs, tokensPerSecond, maxTokens, flushDelayMs, maxBufferedChunks,
      maxBufferedChunksPerWorker, maxChunksPerAppend, appendRetries, maxResultChars);
  }

  public WorkerConfig withMaxConcurrentJobs(int n) {
    return new WorkerConfig(n, localTokensPerSecond, localMaxTokens, flushDelayMs, maxBufferedChunks,
      maxBufferedChunksPerWorker, maxChunksPerAppend, appendRetries, maxResultChars);
  }

  public WorkerConfig withFlushDelayMs(long ms) {
    return new WorkerConfig(maxConcurrentJobs, localTokensPerSecond, localMaxTokens, ms, maxBufferedChunks,
      maxBufferedChunksPerWorker, maxChunksPerAppend, appendRetries, maxResultChars);
  }

  public static WorkerConfig fromEnv(Map<String, String> env) {
    WorkerConfig d = defaults();
    return new WorkerConfig(
      Integer.parseInt(env.getOrDefault("TOKENBUS_WORKER_MAX_JOBS", String.valueOf(d.maxConcurrentJobs))),
      Double.parseDouble(env.getOrDefault("TOKENBUS_LOCAL_TOKENS_PER_SECOND", String.valueOf(d.localTokensPerSecond))),
      Integer.parseInt(env.getOrDefault("TOKENBUS_LOCAL_MAX_TOKENS", String.valueOf(d.localMaxTokens))),
      Long.parseLong(env.getOrDefault("TOKENBUS_FLUSH_DELAY_MS", String.valueOf(d.flushDelayMs))),
      Integer.parseInt(env.getOrDefault("TOKENBUS_MAX_BUFFERED_CHUNKS", String.valueOf(d.maxBufferedChunks))),
      Integer.parseInt(env.getOrDefault("TOKENBUS_MAX_BUFFERED_CHUNKS_PER_WORKER", String.valueOf(d.maxBufferedChunksPerWorker))),
      d.maxChunksPerAppend, d.appendRetries,
      Integer.parseInt(env.getOrDefault("TOKENBUS_MAX_RESULT_CHARS", String.valueOf(d.maxResultChars))));
  }

  public JsonObject toJson() {
    return new JsonObject().put("maxConcurrentJobs", maxConcurrentJobs).put("localTokensPerSecond", localTokensPerSecond)
      .put("localMaxTokens", localMaxTokens).put("flushDelayMs", flushDelayMs).put("maxBufferedChunks", maxBufferedChunks)
      .put("maxBufferedChunksPerWorker", maxBufferedChunksPerWorker);
  }
}
