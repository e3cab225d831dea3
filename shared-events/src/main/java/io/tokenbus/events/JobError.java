package io.tokenbus.events;

import io.vertx.core.json.JsonObject;

/** {@code error} of job:failed: a stable machine code plus a human message. */
public record JobError(String code, String message) {
  public static final String F_CODE = "code";
  public static final String F_MESSAGE = "message";

  /** Codes a job can fail with. Backend codes come from the agent worker's model backends. */
  public static final String BACKEND_UNREACHABLE = "backend_unreachable";
  public static final String BACKEND_HTTP_ERROR = "backend_http_error";
  public static final String BACKEND_PROTOCOL_ERROR = "backend_protocol_error";
  public static final String BACKEND_IDLE_TIMEOUT = "backend_idle_timeout";
  public static final String BACKEND_STREAM_CUT = "backend_stream_cut";
  public static final String UNKNOWN_BACKEND = "unknown_backend";
  public static final String WORKER_LOST = "worker_lost";
  public static final String CHECKPOINT_FAILED = "checkpoint_failed";
  /** The store lost chunks it had acknowledged (restarted empty, evicted keys, failed over to a lagging replica). */
  public static final String HISTORY_LOST = "history_lost";
  public static final String INTERNAL = "internal";

  public JsonObject toJson() {
    return new JsonObject().put(F_CODE, code).put(F_MESSAGE, message);
  }

  public static JobError fromJson(JsonObject j) {
    return j == null ? null : new JobError(j.getString(F_CODE), j.getString(F_MESSAGE));
  }
}
