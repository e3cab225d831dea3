package io.tokenbus.events;

import io.vertx.core.json.JsonObject;

/**
 * Terminal event on {@code job.<jobId>.status}: job:completed, job:failed or job:cancelled. {@code lastSequence} is
 * the sequence of the job's last chunk (0 when none was produced).
 */
public record StatusEvent(JobState state, String jobId, long lastSequence, String result, JobError error) {
  public static final String COMPLETED = "job:completed";
  public static final String FAILED = "job:failed";
  public static final String CANCELLED = "job:cancelled";
  public static final String F_LAST_SEQUENCE = "lastSequence";
  public static final String F_RESULT = "result";
  public static final String F_ERROR = "error";

  public StatusEvent {
    JobIds.require(jobId);
    if (state == null || !state.terminal()) {
      throw TokenbusException.invalid("status event needs a terminal state");
    }
    if (lastSequence < 0) {
      throw TokenbusException.invalid("lastSequence must be >= 0");
    }
  }

  public String type() {
    return switch (state) {
      case COMPLETED -> COMPLETED;
      case FAILED -> FAILED;
      default -> CANCELLED;
    };
  }

  public JsonObject toJson() {
    JsonObject j = new JsonObject().put(ChunkEvent.F_TYPE, type()).put(ChunkEvent.F_JOB_ID, jobId)
      .put(F_LAST_SEQUENCE, lastSequence);
    if (result != null) {
      j.put(F_RESULT, result);
    }
    if (error != null) {
      j.put(F_ERROR, error.toJson());
    }
    return j;
  }

  public static StatusEvent fromJson(JsonObject j) {
    String type = j.getString(ChunkEvent.F_TYPE);
    JobState state = switch (type == null ? "" : type) {
      case COMPLETED -> JobState.COMPLETED;
      case FAILED -> JobState.FAILED;
      case CANCELLED -> JobState.CANCELLED;
      default -> throw TokenbusException.invalid("type must be job:completed, job:failed or job:cancelled");
    };
    return new StatusEvent(state, Json.requiredString(j, ChunkEvent.F_JOB_ID), Json.longValue(j, F_LAST_SEQUENCE, 0),
      Json.string(j, F_RESULT), JobError.fromJson(j.getJsonObject(F_ERROR)));
  }
}
