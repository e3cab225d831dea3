package io.tokenbus.events.internal;

import io.tokenbus.events.JobIds;
import io.vertx.core.json.JsonObject;

/**
 * Whoever finds a job whose worker stopped renewing its lease (a gateway reading it) asks some worker to take it over
 * ({@code tokenbus.worker.takeover}, load-balanced). The answer says what happened; a failed request leaves the
 * caller to close the job as {@code worker_lost}.
 */
public record Takeover(String jobId) {
  public Takeover {
    JobIds.require(jobId);
  }

  public JsonObject toJson() {
    return new JsonObject().put("jobId", jobId);
  }

  public static Takeover fromJson(JsonObject j) {
    return new Takeover(j.getString("jobId"));
  }

  /** {@code continued}: this worker runs it now; {@code held}: it has an owner; {@code closed}: it is over. */
  public record Result(String outcome) {
    public static final String CONTINUED = "continued";
    public static final String HELD = "held";
    public static final String CLOSED = "closed";

    public JsonObject toJson() {
      return new JsonObject().put("outcome", outcome);
    }

    public static Result fromJson(JsonObject j) {
      return new Result(j.getString("outcome"));
    }
  }
}
