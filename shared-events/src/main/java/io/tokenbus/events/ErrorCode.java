package io.tokenbus.events;

/**
 * Failure vocabulary shared by HTTP answers ({@code {"error": id, "message"}}), bridge error frames and event-bus
 * reply failures ({@code failureCode} = {@link #status}). {@link #retryable} tells a caller whether trying again later
 * can succeed.
 */
public enum ErrorCode {
  INVALID_REQUEST("invalid_request", 400, false),
  INVALID_JSON("invalid_json", 400, false),
  UNAUTHORIZED("unauthorized", 401, false),
  FORBIDDEN("forbidden", 403, false),
  NOT_FOUND("not_found", 404, false),
  CONFLICT("conflict", 409, false),
  /** The store cannot return a contiguous range: chunks were lost (Redis restarted empty, evicted, failed over). */
  HISTORY_LOST("history_lost", 410, false),
  PAYLOAD_TOO_LARGE("payload_too_large", 413, false),
  RATE_LIMITED("rate_limited", 429, true),
  TOO_MANY_JOBS("too_many_jobs", 429, true),
  OVERLOADED("overloaded", 503, true),
  NO_WORKER("no_worker", 503, true),
  STORE_UNAVAILABLE("store_unavailable", 503, true),
  /**
   * This gateway is shutting down: reconnect (to another gateway, as the load balancer routes a new connection) and
   * resume after the last sequence you have. Answered with {@code Retry-After}; sent on a bridge socket just before
   * the gateway closes it.
   */
  DRAINING("draining", 503, true),
  TIMEOUT("timeout", 504, true),
  INTERNAL("internal", 500, true);

  public final String id;
  public final int status;
  public final boolean retryable;

  ErrorCode(String id, int status, boolean retryable) {
    this.id = id;
    this.status = status;
    this.retryable = retryable;
  }

  public static ErrorCode fromId(String id) {
    for (ErrorCode c : values()) {
      if (c.id.equals(id)) {
        return c;
      }
    }
    return INTERNAL;
  }
}
