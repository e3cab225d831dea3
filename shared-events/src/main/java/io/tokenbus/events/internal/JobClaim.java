package io.tokenbus.events.internal;

import io.tokenbus.events.JobIds;
import io.vertx.core.json.JsonObject;

/**
 * A worker asks the store for a job whose lease ran out, to continue it: on success the job gets a new owner epoch
 * (every write of an older epoch is refused from then on) and a lease of {@code leaseMs}. A job may change owner at
 * most {@code maxTakeovers} times, so a job that kills every worker running it is not passed on for ever.
 */
public record JobClaim(String jobId, long leaseMs, int maxTakeovers) {
  public JobClaim {
    JobIds.require(jobId);
  }

  public JsonObject toJson() {
    return new JsonObject().put("jobId", jobId).put("leaseMs", leaseMs).put("maxTakeovers", maxTakeovers);
  }

  public static JobClaim fromJson(JsonObject j) {
    return new JobClaim(j.getString("jobId"), j.getLong("leaseMs"), j.getInteger("maxTakeovers"));
  }

  /** What a claim found. Only {@link #CLAIMED} makes the caller the owner. */
  public enum Outcome {
    /** The caller now owns the job with {@code epoch}; chunks 1..lastSequence are stored. */
    CLAIMED,
    /** The lease still holds (its worker renewed it, or another worker claimed it first). */
    HELD,
    /** The job is over (or gone). */
    CLOSED,
    /** The job changed owner maxTakeovers times already. */
    EXHAUSTED
  }

  /** The claim's answer; {@code assignment} (the job as submitted) only when claimed. */
  public record Result(Outcome outcome, long epoch, long lastSequence, JobAssignment assignment) {
    public JsonObject toJson() {
      return new JsonObject().put("outcome", outcome.name()).put("epoch", epoch).put("lastSequence", lastSequence)
        .put("assignment", assignment == null ? null : assignment.toJson());
    }

    public static Result fromJson(JsonObject j) {
      JsonObject a = j.getJsonObject("assignment");
      return new Result(Outcome.valueOf(j.getString("outcome")), j.getLong("epoch"), j.getLong("lastSequence"),
        a == null ? null : JobAssignment.fromJson(a));
    }
  }
}
