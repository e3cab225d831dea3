package io.tokenbus.events;

import io.vertx.core.json.JsonObject;
import java.util.Objects;

/**
 * model:chunk on {@code job.<jobId>.chunk}. Sequences of a job are 1, 2, 3, ... without gaps; the chunk texts
 * concatenated in sequence order equal the job's output.
 *
 * <p>Immutable. A class rather than a record only to keep its JSON text once: the same instance is stored by the
 * checkpoint store and written to every browser, so it is encoded once per node (and not at all when it arrived as
 * JSON).
 */
public final class ChunkEvent {
  public static final String TYPE = "model:chunk";
  public static final String F_TYPE = "type";
  public static final String F_JOB_ID = "jobId";
  public static final String F_CHUNK = "chunk";
  public static final String F_SEQUENCE = "sequence";
  public static final String F_TIMESTAMP = "timestamp";
  public static final String F_METADATA = "metadata";

  private final String jobId;
  private final String chunk;
  private final long sequence;
  private final long timestamp;
  private final ChunkMetadata metadata;
  // Written at most once with a value every thread would compute alike; a racing reader at worst encodes again.
  private String encoded;

  public ChunkEvent(String jobId, String chunk, long sequence, long timestamp, ChunkMetadata metadata) {
    if (!JobIds.valid(jobId)) {
      throw TokenbusException.invalid("jobId must match " + JobIds.PATTERN.pattern());
    }
    if (chunk == null) {
      throw TokenbusException.invalid("chunk is required");
    }
    if (sequence < 1) {
      throw TokenbusException.invalid("sequence must be >= 1");
    }
    this.jobId = jobId;
    this.chunk = chunk;
    this.sequence = sequence;
    this.timestamp = timestamp;
    this.metadata = metadata == null ? new ChunkMetadata(null, null, null, null) : metadata;
  }

  public String jobId() {
    return jobId;
  }

  public String chunk() {
    return chunk;
  }

  public long sequence() {
    return sequence;
  }

  public long timestamp() {
    return timestamp;
  }

  public ChunkMetadata metadata() {
    return metadata;
  }

  public JsonObject toJson() {
    return new JsonObject().put(F_TYPE, TYPE).put(F_JOB_ID, jobId).put(F_CHUNK, chunk).put(F_SEQUENCE, sequence)
      .put(F_TIMESTAMP, timestamp).put(F_METADATA, metadata.toJson());
  }

  /** The JSON text of this event, encoded once. */
  public String encoded() {
    String e = encoded;
    if (e == null) {
      e = toJson().encode();
      encoded = e;
    }
    return e;
  }

  public static ChunkEvent fromJson(JsonObject j) {
    if (!TYPE.equals(j.getValue(F_TYPE))) {
      throw TokenbusException.invalid("type must be " + TYPE);
    }
    return new ChunkEvent(Json.requiredString(j, F_JOB_ID), Json.requiredString(j, F_CHUNK),
      Json.longValue(j, F_SEQUENCE, 0), Json.longValue(j, F_TIMESTAMP, 0), ChunkMetadata.fromJson(j.getJsonObject(F_METADATA)));
  }

  /** Parses JSON text and keeps it as this event's encoding. */
  public static ChunkEvent decode(String json) {
    ChunkEvent c = fromJson(new JsonObject(json));
    c.encoded = json;
    return c;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof ChunkEvent c && sequence == c.sequence && timestamp == c.timestamp && jobId.equals(c.jobId)
      && chunk.equals(c.chunk) && metadata.equals(c.metadata);
  }

  @Override
  public int hashCode() {
    return Objects.hash(jobId, chunk, sequence, timestamp, metadata);
  }

  @Override
  public String toString() {
    return encoded();
  }
}
