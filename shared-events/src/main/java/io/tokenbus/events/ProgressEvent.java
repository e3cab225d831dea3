package io.tokenbus.events;

import io.vertx.core.json.JsonObject;

/** job:progress on {@code job.<jobId>.progress}: 0..100 with the current step. Best-effort, not checkpointed. */
public record ProgressEvent(String jobId, int progress, Step step, JsonObject metadata) {
  public static final String TYPE = "job:progress";
  public static final String F_PROGRESS = "progress";
  public static final String F_STEP = "step";

  public ProgressEvent {
    JobIds.require(jobId);
    if (progress < 0 || progress > 100) {
      throw TokenbusException.invalid("progress must be 0..100");
    }
  }

  public JsonObject toJson() {
    JsonObject j = new JsonObject().put(ChunkEvent.F_TYPE, TYPE).put(ChunkEvent.F_JOB_ID, jobId).put(F_PROGRESS, progress);
    if (step != null) {
      j.put(F_STEP, step.wire());
    }
    if (metadata != null) {
      j.put(ChunkEvent.F_METADATA, metadata);
    }
    return j;
  }

  public static ProgressEvent fromJson(JsonObject j) {
    if (!TYPE.equals(j.getString(ChunkEvent.F_TYPE))) {
      throw TokenbusException.invalid("type must be " + TYPE);
    }
    return new ProgressEvent(Json.requiredString(j, ChunkEvent.F_JOB_ID), Json.integer(j, F_PROGRESS),
      Step.fromWire(Json.string(j, F_STEP)), j.getJsonObject(ChunkEvent.F_METADATA));
  }
}
