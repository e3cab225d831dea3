package io.tokenbus.events;

import io.vertx.core.json.JsonObject;

/**
 * model:chunk on {@code job.<jobId>.chunk}. Sequences of a job are 1, 2, 3, ... without gaps; the chunk texts
 * concatenated in sequence order equal the job's output.
 */
public record ChunkEvent(String jobId, String chunk, long sequence, long timestamp, ChunkMetadata metadata) {
  public static final String TYPE = "model:chunk";
  public static final String F_TYPE = "type";
  public static final String F_JOB_ID = "jobId";
  public static final String F_CHUNK = "chunk";
  public static final String F_SEQUENCE = "sequence";
  public static final String F_TIMESTAMP = "timestamp";
  public static final String F_METADATA = "metadata";

  public ChunkEvent {
    JobIds.require(jobId);
    if (chunk == null) {
      throw TokenbusException.invalid("chunk is required");
    }
    if (sequence < 1) {
      throw TokenbusException.invalid("sequence must be >= 1");
    }
    if (metadata == null) {
      metadata = new ChunkMetadata(null, null, null, null);
    }
  }

  public JsonObject toJson() {
    return new JsonObject().put(F_TYPE, TYPE).put(F_JOB_ID, jobId).put(F_CHUNK, chunk).put(F_SEQUENCE, sequence)
      .put(F_TIMESTAMP, timestamp).put(F_METADATA, metadata.toJson());
  }

  public static ChunkEvent fromJson(JsonObject j) {
    if (!TYPE.equals(j.getString(F_TYPE))) {
      throw TokenbusException.invalid("type must be " + TYPE);
    }
    return new ChunkEvent(Json.requiredString(j, F_JOB_ID), Json.requiredString(j, F_CHUNK),
      Json.longValue(j, F_SEQUENCE, 0), Json.longValue(j, F_TIMESTAMP, 0), ChunkMetadata.fromJson(j.getJsonObject(F_METADATA)));
  }
}
