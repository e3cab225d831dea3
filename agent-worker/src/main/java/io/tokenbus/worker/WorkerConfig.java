package io.tokenbus.worker;

import io.tokenbus.runtime.Env;
import io.tokenbus.worker.backend.BackendConfig;
import io.tokenbus.worker.backend.LocalGeneratorBackend;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

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
 * @param storeOutageMs       how long a job keeps retrying a checkpoint write the store cannot take (Redis restarting,
 *                            failing over, paused) before it fails with checkpoint_failed; the model stays paused
 *                            meanwhile ({@code TOKENBUS_STORE_OUTAGE_SECONDS})
 * @param maxResultChars      {@code result} on job:completed is omitted for longer outputs (they stay replayable);
 *                            bounds the memory a job holds for it
 * @param backends            model backends besides the built-in {@code local} one
 * @param defaultBackend      backend of jobs that name none (null: the first configured, else {@code local})
 * @param probeOllama         with no backend configured, use an Ollama answering on localhost:11434
 * @param docsDir             folder the research workflow's search reads ({@code .md}, {@code .txt}); null: none
 * @param docsSearchBudgetMs  how long one search of that folder may take; then it returns the best found so far
 *                            ({@code TOKENBUS_DOCS_SEARCH_BUDGET_MS})
 * @param leaseMs             the worker renews its jobs' leases to now + this, every third of it; a job whose lease
 *                            runs out is closed as worker_lost by whoever reads it ({@code TOKENBUS_WORKER_LEASE_SECONDS})
 * @param drainMs             on stop (SIGTERM, a rolling update) the worker takes no new job and lets running ones
 *                            finish for up to this long; what is left then is handed over to other workers, never
 *                            cancelled
 *                            ({@code TOKENBUS_DRAIN_SECONDS})
 * @param maxTakeovers        how many times a job whose worker died may move to another worker (each move continues
 *                            it where the store says it stopped); beyond, it ends as worker_lost, so a job that kills
 *                            every worker running it is not passed on for ever ({@code TOKENBUS_MAX_TAKEOVERS}, 0: never)
 * @param maxRetryAfterSeconds the longest {@code Retry-After} a backend's retry waits, unless the backend sets its own
 *                            ({@code TOKENBUS_BACKEND_MAX_RETRY_AFTER_SECONDS}); also for the Ollama found by the probe
 * @param backgroundTargetMs  checkpoint write round trip above which background jobs are slowed so interactive ones
 *                            keep their latency; 0: never ({@code TOKENBUS_BACKGROUND_TARGET_MS})
 */
public record WorkerConfig(int maxConcurrentJobs, double localTokensPerSecond, int localMaxTokens, long flushDelayMs,
                           int maxBufferedChunks, int maxBufferedChunksPerWorker, int maxChunksPerAppend, long storeOutageMs,
                           int maxResultChars, List<BackendConfig> backends, String defaultBackend, boolean probeOllama,
                           String docsDir, long docsSearchBudgetMs, long leaseMs, int maxRetryAfterSeconds, long drainMs,
                           int maxTakeovers, long backgroundTargetMs) {

  public WorkerConfig {
    backends = List.copyOf(backends);
    Set<String> names = new HashSet<>(Set.of(LocalGeneratorBackend.NAME));
    for (BackendConfig b : backends) {
      if (!names.add(b.name())) {
        throw new IllegalArgumentException("backend name '" + b.name() + "' is used twice (or is the built-in 'local')");
      }
    }
    if (defaultBackend != null && !names.contains(defaultBackend)) {
      throw new IllegalArgumentException("default backend '" + defaultBackend + "' is not configured; configured: " + names);
    }
    if (docsSearchBudgetMs < 1) {
      throw new IllegalArgumentException("the document search budget must be at least 1 ms");
    }
    if (maxRetryAfterSeconds < 0) {
      throw new IllegalArgumentException("the backends' Retry-After budget must be 0 or more seconds");
    }
    if (backgroundTargetMs < 0) {
      throw new IllegalArgumentException("TOKENBUS_BACKGROUND_TARGET_MS must be 0 or more");
    }
    if (drainMs < 0) {
      throw new IllegalArgumentException("TOKENBUS_DRAIN_SECONDS must be 0 or more");
    }
    if (maxTakeovers < 0) {
      throw new IllegalArgumentException("TOKENBUS_MAX_TAKEOVERS must be 0 or more");
    }
    if (leaseMs < 300) {
      throw new IllegalArgumentException("worker lease must be at least 300 ms");
    }
    if (maxConcurrentJobs < 1 || localTokensPerSecond <= 0 || localMaxTokens < 1 || flushDelayMs < 1
      || maxBufferedChunks < 2 || maxBufferedChunksPerWorker < 2 || maxChunksPerAppend < 1 || storeOutageMs < 0 || maxResultChars < 0) {
      throw new IllegalArgumentException("invalid worker configuration");
    }
  }

  public static WorkerConfig defaults() {
    return new WorkerConfig(2000, 30, 240, 20, 256, 32_768, 128, 60_000, 100_000, List.of(), null, false, null, 2000, 15_000,
      BackendConfig.DEFAULT_MAX_RETRY_AFTER_SECONDS, 120_000, 3, 10);
  }

  public WorkerConfig withDrainMs(long ms) {
    return new WorkerConfig(maxConcurrentJobs, localTokensPerSecond, localMaxTokens, flushDelayMs, maxBufferedChunks,
      maxBufferedChunksPerWorker, maxChunksPerAppend, storeOutageMs, maxResultChars,
      backends, defaultBackend, probeOllama, docsDir, docsSearchBudgetMs, leaseMs, maxRetryAfterSeconds, ms, maxTakeovers, backgroundTargetMs);
  }

  public WorkerConfig withLocalGenerator(double tokensPerSecond, int maxTokens) {
    return new WorkerConfig(maxConcurrentJobs, tokensPerSecond, maxTokens, flushDelayMs, maxBufferedChunks,
      maxBufferedChunksPerWorker, maxChunksPerAppend, storeOutageMs, maxResultChars,
      backends, defaultBackend, probeOllama, docsDir, docsSearchBudgetMs, leaseMs, maxRetryAfterSeconds, drainMs, maxTakeovers, backgroundTargetMs);
  }

  public WorkerConfig withMaxConcurrentJobs(int n) {
    return new WorkerConfig(n, localTokensPerSecond, localMaxTokens, flushDelayMs, maxBufferedChunks,
      maxBufferedChunksPerWorker, maxChunksPerAppend, storeOutageMs, maxResultChars,
      backends, defaultBackend, probeOllama, docsDir, docsSearchBudgetMs, leaseMs, maxRetryAfterSeconds, drainMs, maxTakeovers, backgroundTargetMs);
  }

  public WorkerConfig withFlushDelayMs(long ms) {
    return new WorkerConfig(maxConcurrentJobs, localTokensPerSecond, localMaxTokens, ms, maxBufferedChunks,
      maxBufferedChunksPerWorker, maxChunksPerAppend, storeOutageMs, maxResultChars,
      backends, defaultBackend, probeOllama, docsDir, docsSearchBudgetMs, leaseMs, maxRetryAfterSeconds, drainMs, maxTakeovers, backgroundTargetMs);
  }

  public WorkerConfig withBackends(List<BackendConfig> b, String dflt) {
    return new WorkerConfig(maxConcurrentJobs, localTokensPerSecond, localMaxTokens, flushDelayMs, maxBufferedChunks,
      maxBufferedChunksPerWorker, maxChunksPerAppend, storeOutageMs, maxResultChars,
      b, dflt, probeOllama, docsDir, docsSearchBudgetMs, leaseMs, maxRetryAfterSeconds, drainMs, maxTakeovers, backgroundTargetMs);
  }

  public WorkerConfig withDocsDir(String dir) {
    return new WorkerConfig(maxConcurrentJobs, localTokensPerSecond, localMaxTokens, flushDelayMs, maxBufferedChunks,
      maxBufferedChunksPerWorker, maxChunksPerAppend, storeOutageMs, maxResultChars,
      backends, defaultBackend, probeOllama, dir, docsSearchBudgetMs, leaseMs, maxRetryAfterSeconds, drainMs, maxTakeovers, backgroundTargetMs);
  }

  /**
   * Backends from {@code TOKENBUS_BACKENDS} (JSON array of {@link BackendConfig}) and the shortcuts
   * {@code TOKENBUS_OLLAMA_URL}/{@code _MODEL} and {@code TOKENBUS_OPENAI_URL}/{@code _MODEL}/{@code _API_KEY}.
   *
   * @param maxRetryAfterSeconds the Retry-After budget of backends that do not set {@code maxRetryAfterSeconds}
   */
  public static List<BackendConfig> backendsFromEnv(Map<String, String> env, int maxRetryAfterSeconds) {
    List<BackendConfig> out = new ArrayList<>();
    String json = env.get("TOKENBUS_BACKENDS");
    if (json != null && !json.isBlank()) {
      try {
        new JsonArray(json).forEach(o -> out.add(BackendConfig.fromJson((JsonObject) o, maxRetryAfterSeconds)));
      } catch (DecodeException | ClassCastException e) {
        throw new IllegalArgumentException("TOKENBUS_BACKENDS must be a JSON array of backend objects: " + e.getMessage());
      }
    }
    if (env.get("TOKENBUS_OLLAMA_URL") != null) {
      out.add(BackendConfig.withDefaults("ollama", BackendConfig.OLLAMA, env.get("TOKENBUS_OLLAMA_URL"),
        env.getOrDefault("TOKENBUS_OLLAMA_MODEL", "llama3.2"), null, maxRetryAfterSeconds));
    }
    if (env.get("TOKENBUS_OPENAI_URL") != null) {
      out.add(BackendConfig.withDefaults("openai", BackendConfig.OPENAI, env.get("TOKENBUS_OPENAI_URL"),
        env.getOrDefault("TOKENBUS_OPENAI_MODEL", "gpt-4o-mini"), env.get("TOKENBUS_OPENAI_API_KEY"), maxRetryAfterSeconds));
    }
    return out;
  }

  public static WorkerConfig fromEnv(Map<String, String> env) {
    WorkerConfig d = defaults();
    int maxRetryAfterSeconds = Env.integer(env, "TOKENBUS_BACKEND_MAX_RETRY_AFTER_SECONDS", d.maxRetryAfterSeconds);
    return new WorkerConfig(
      Env.integer(env, "TOKENBUS_WORKER_MAX_JOBS", d.maxConcurrentJobs),
      Env.decimal(env, "TOKENBUS_LOCAL_TOKENS_PER_SECOND", d.localTokensPerSecond),
      Env.integer(env, "TOKENBUS_LOCAL_MAX_TOKENS", d.localMaxTokens),
      Env.whole(env, "TOKENBUS_FLUSH_DELAY_MS", d.flushDelayMs),
      Env.integer(env, "TOKENBUS_MAX_BUFFERED_CHUNKS", d.maxBufferedChunks),
      Env.integer(env, "TOKENBUS_MAX_BUFFERED_CHUNKS_PER_WORKER", d.maxBufferedChunksPerWorker),
      d.maxChunksPerAppend,
      1000 * Env.whole(env, "TOKENBUS_STORE_OUTAGE_SECONDS", d.storeOutageMs / 1000),
      Env.integer(env, "TOKENBUS_MAX_RESULT_CHARS", d.maxResultChars),
      backendsFromEnv(env, maxRetryAfterSeconds), env.get("TOKENBUS_DEFAULT_BACKEND"),
      Env.flag(env, "TOKENBUS_PROBE_OLLAMA", true), env.get("TOKENBUS_DOCS_DIR"),
      Env.whole(env, "TOKENBUS_DOCS_SEARCH_BUDGET_MS", d.docsSearchBudgetMs),
      1000 * Env.whole(env, "TOKENBUS_WORKER_LEASE_SECONDS", d.leaseMs / 1000),
      maxRetryAfterSeconds,
      1000 * Env.whole(env, "TOKENBUS_DRAIN_SECONDS", d.drainMs / 1000),
      Env.integer(env, "TOKENBUS_MAX_TAKEOVERS", d.maxTakeovers),
      Env.whole(env, "TOKENBUS_BACKGROUND_TARGET_MS", d.backgroundTargetMs));
  }

  public JsonObject toJson() {
    return new JsonObject().put("maxConcurrentJobs", maxConcurrentJobs).put("localTokensPerSecond", localTokensPerSecond)
      .put("localMaxTokens", localMaxTokens).put("flushDelayMs", flushDelayMs).put("maxBufferedChunks", maxBufferedChunks)
      .put("maxBufferedChunksPerWorker", maxBufferedChunksPerWorker).put("storeOutageSeconds", storeOutageMs / 1000)
      .put("leaseSeconds", leaseMs / 1000)
      .put("backends", new JsonArray(backends.stream().map(BackendConfig::toJson).toList()))
      .put("defaultBackend", defaultBackend).put("probeOllama", probeOllama).put("docsDir", docsDir)
      .put("docsSearchBudgetMs", docsSearchBudgetMs).put("maxRetryAfterSeconds", maxRetryAfterSeconds)
      .put("drainSeconds", drainMs / 1000).put("maxTakeovers", maxTakeovers)
      .put("backgroundTargetMs", backgroundTargetMs);
  }
}
