package io.tokenbus.worker.backend;

import io.vertx.core.json.JsonObject;

/**
 * One configured model backend.
 *
 * @param name           what jobs pick it by ({@code backend} field)
 * @param kind           {@code ollama} (native /api/chat NDJSON) or {@code openai} (/v1/chat/completions SSE)
 * @param baseUrl        e.g. {@code http://localhost:11434} or {@code https://api.openai.com} (without /v1)
 * @param model          default model when a job names none
 * @param apiKey         sent as {@code Authorization: Bearer} (openai kind); may be null
 * @param connectTimeoutMs connect timeout
 * @param idleTimeoutMs  a stream silent this long fails with backend_idle_timeout (also the wait for the first byte)
 * @param retries        attempts after the first, only before any token arrived (connection failure, 429, 5xx)
 * @param maxRetryAfterSeconds the longest {@code Retry-After} a retry waits; a 429/5xx asking for more fails the job
 *                       at once ({@code TOKENBUS_BACKEND_MAX_RETRY_AFTER_SECONDS}, default 30)
 * @param continuation   how the server continues a partial answer when a job moves to another worker:
 *                       {@code prefill} (a final assistant message is continued: Ollama, llama.cpp, LM Studio),
 *                       {@code continue_final_message} (vLLM, SGLang: that message plus the flag), {@code none}
 *                       (OpenAI and unknown servers: such a job ends as worker_lost). Default: prefill for ollama,
 *                       none for openai.
 */
public record BackendConfig(String name, String kind, String baseUrl, String model, String apiKey, int connectTimeoutMs,
                            long idleTimeoutMs, int retries, int maxRetryAfterSeconds, String continuation) {
  public static final String OLLAMA = "ollama";
  public static final String OPENAI = "openai";
  public static final int DEFAULT_MAX_RETRY_AFTER_SECONDS = 30;
  /** The documented defaults (docs/backends.md), the one source for every way a backend is configured. */
  public static final int DEFAULT_CONNECT_TIMEOUT_MS = 5000;
  public static final long DEFAULT_IDLE_TIMEOUT_MS = 60_000;
  public static final int DEFAULT_RETRIES = 2;
  public static final String CONTINUE_PREFILL = "prefill";
  public static final String CONTINUE_FINAL_MESSAGE = "continue_final_message";
  public static final String CONTINUE_NONE = "none";

  public BackendConfig {
    if (name == null || name.isBlank() || !(OLLAMA.equals(kind) || OPENAI.equals(kind))) {
      throw new IllegalArgumentException("backend needs a name and kind ollama|openai: " + name + "/" + kind);
    }
    if (baseUrl == null || !(baseUrl.startsWith("http://") || baseUrl.startsWith("https://"))) {
      throw new IllegalArgumentException("backend " + name + " needs an http(s) baseUrl");
    }
    if (model == null || model.isBlank()) {
      throw new IllegalArgumentException("backend " + name + " needs a default model");
    }
    baseUrl = baseUrl.endsWith("/") ? baseUrl.substring(0, baseUrl.length() - 1) : baseUrl;
    connectTimeoutMs = connectTimeoutMs <= 0 ? DEFAULT_CONNECT_TIMEOUT_MS : connectTimeoutMs;
    idleTimeoutMs = idleTimeoutMs <= 0 ? DEFAULT_IDLE_TIMEOUT_MS : idleTimeoutMs;
    retries = Math.max(0, retries);
    continuation = continuation == null ? (OLLAMA.equals(kind) ? CONTINUE_PREFILL : CONTINUE_NONE) : continuation;
    if (!(CONTINUE_PREFILL.equals(continuation) || CONTINUE_FINAL_MESSAGE.equals(continuation) || CONTINUE_NONE.equals(continuation))) {
      throw new IllegalArgumentException("backend " + name + ": continuation must be prefill, continue_final_message or none");
    }
    if (maxRetryAfterSeconds < 0) {
      throw new IllegalArgumentException("backend " + name + ": maxRetryAfterSeconds must be 0 or more");
    }
  }

  /** With the default {@code Retry-After} budget. */
  public BackendConfig(String name, String kind, String baseUrl, String model, String apiKey, int connectTimeoutMs,
                       long idleTimeoutMs, int retries) {
    this(name, kind, baseUrl, model, apiKey, connectTimeoutMs, idleTimeoutMs, retries, DEFAULT_MAX_RETRY_AFTER_SECONDS, null);
  }

  /** With the kind's default continuation. */
  public BackendConfig(String name, String kind, String baseUrl, String model, String apiKey, int connectTimeoutMs,
                       long idleTimeoutMs, int retries, int maxRetryAfterSeconds) {
    this(name, kind, baseUrl, model, apiKey, connectTimeoutMs, idleTimeoutMs, retries, maxRetryAfterSeconds, null);
  }

  /** A backend with the documented timeouts and retries. */
  public static BackendConfig withDefaults(String name, String kind, String baseUrl, String model, String apiKey,
                                           int maxRetryAfterSeconds) {
    return new BackendConfig(name, kind, baseUrl, model, apiKey, 0, 0, DEFAULT_RETRIES, maxRetryAfterSeconds);
  }

  public static BackendConfig fromJson(JsonObject j) {
    return fromJson(j, DEFAULT_MAX_RETRY_AFTER_SECONDS);
  }

  /** @param maxRetryAfterSeconds the budget when the object has no {@code maxRetryAfterSeconds} */
  public static BackendConfig fromJson(JsonObject j, int maxRetryAfterSeconds) {
    return new BackendConfig(j.getString("name", j.getString("kind")), j.getString("kind"), j.getString("baseUrl"),
      j.getString("model"), j.getString("apiKey"), j.getInteger("connectTimeoutMs", 0), j.getLong("idleTimeoutMs", 0L),
      j.getInteger("retries", DEFAULT_RETRIES), j.getInteger("maxRetryAfterSeconds", maxRetryAfterSeconds),
      j.getString("continuation"));
  }

  public JsonObject toJson() {
    return new JsonObject().put("name", name).put("kind", kind).put("baseUrl", baseUrl).put("model", model)
      .put("apiKey", apiKey == null ? null : "***").put("connectTimeoutMs", connectTimeoutMs)
      .put("idleTimeoutMs", idleTimeoutMs).put("retries", retries).put("maxRetryAfterSeconds", maxRetryAfterSeconds)
      .put("continuation", continuation);
  }
}
