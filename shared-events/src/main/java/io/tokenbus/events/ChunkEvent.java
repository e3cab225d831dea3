package io.tokenbus.events;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Objects;

/**
 * model:chunk on {@code job.<jobId>.chunk}. Sequences of a job are 1, 2, 3, ... without gaps; the chunk texts
 * concatenated in sequence order equal the job's output.
 *
 * <p>Immutable. A class rather than a record to keep its JSON text once: the same instance is stored by the
 * checkpoint store and written to every browser, so it is encoded once per node (and not at all when it arrived as
 * JSON). A chunk read back from the store ({@link #stored}) stays the UTF-8 bytes it was read as, neither decoded nor
 * parsed unless something asks for its text or fields: a replay copies those bytes to the client.
 */
public final class ChunkEvent {
  public static final String TYPE = "model:chunk";
  public static final String F_TYPE = "type";
  public static final String F_JOB_ID = "jobId";
  public static final String F_CHUNK = "chunk";
  public static final String F_SEQUENCE = "sequence";
  public static final String F_TIMESTAMP = "timestamp";
  public static final String F_METADATA = "metadata";

  private static final JsonFactory JSON = new JsonFactory();

  private final String jobId;
  private final long sequence;
  // Null only for a stored chunk nobody read yet; set once to an immutable value every thread would compute alike,
  // so a racing reader at worst parses (or encodes) again.
  private volatile Body body;
  private volatile String encoded;
  // A stored chunk's JSON as read (UTF-8); never written to after construction.
  private final Buffer bytes;

  private record Body(String chunk, long timestamp, ChunkMetadata metadata) {}

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
    this.sequence = sequence;
    this.body = new Body(chunk, timestamp, metadata == null ? ChunkMetadata.NONE : metadata);
    this.bytes = null;
  }

  private ChunkEvent(String jobId, long sequence, Buffer json) {
    this.jobId = jobId;
    this.sequence = sequence;
    this.bytes = json;
  }

  /**
   * A chunk as the checkpoint store holds it: its JSON text as UTF-8, stored at sequence {@code sequence} of
   * {@code jobId} after it was validated on its way in. Decoded or parsed only if its text or fields are asked for.
   * The buffer is kept, not copied: nothing may write to it afterwards.
   */
  public static ChunkEvent stored(String jobId, long sequence, Buffer json) {
    return new ChunkEvent(jobId, sequence, json);
  }

  private Body body() {
    Body b = body;
    if (b == null) {
      ChunkEvent parsed = fromJson(new JsonObject(encoded()));
      if (parsed.sequence != sequence || !parsed.jobId.equals(jobId)) {
        throw TokenbusException.invalid("stored chunk " + sequence + " of " + jobId + " says " + parsed.sequence + " of " + parsed.jobId);
      }
      b = parsed.body;
      body = b;
    }
    return b;
  }

  public String jobId() {
    return jobId;
  }

  public String chunk() {
    return body().chunk;
  }

  public long sequence() {
    return sequence;
  }

  public long timestamp() {
    return body().timestamp;
  }

  public ChunkMetadata metadata() {
    return body().metadata;
  }

  public JsonObject toJson() {
    Body b = body();
    return new JsonObject().put(F_TYPE, TYPE).put(F_JOB_ID, jobId).put(F_CHUNK, b.chunk).put(F_SEQUENCE, sequence)
      .put(F_TIMESTAMP, b.timestamp).put(F_METADATA, b.metadata.toJson());
  }

  /** The JSON text of this event (the shape of {@link #toJson()}), encoded once. */
  public String encoded() {
    String e = encoded;
    if (e == null) {
      e = bytes != null ? bytes.toString(StandardCharsets.UTF_8) : encode(body());
      encoded = e;
    }
    return e;
  }

  /**
   * {@link #encoded()} as UTF-8: a stored chunk's bytes as read, without a copy (read them, never write to them), else
   * encoded now.
   */
  public Buffer encodedBytes() {
    return bytes != null ? bytes : Buffer.buffer(encoded());
  }

  // Streamed field by field: every token is encoded once, and a map built only to be encoded cost twice as much.
  private String encode(Body b) {
    StringWriter out = new StringWriter(128 + b.chunk.length());
    try (JsonGenerator g = JSON.createGenerator(out)) {
      g.writeStartObject();
      g.writeStringField(F_TYPE, TYPE);
      g.writeStringField(F_JOB_ID, jobId);
      g.writeStringField(F_CHUNK, b.chunk);
      g.writeNumberField(F_SEQUENCE, sequence);
      g.writeNumberField(F_TIMESTAMP, b.timestamp);
      g.writeObjectFieldStart(F_METADATA);
      ChunkMetadata m = b.metadata;
      if (m.step() != null) {
        g.writeStringField(ChunkMetadata.STEP, m.step().wire());
      }
      if (m.model() != null) {
        g.writeStringField(ChunkMetadata.MODEL, m.model());
      }
      if (m.tokensPerSec() != null) {
        g.writeNumberField(ChunkMetadata.TOKENS_PER_SEC, m.tokensPerSec());
      }
      if (m.tokens() != null) {
        g.writeNumberField(ChunkMetadata.TOKENS, m.tokens());
      }
      g.writeEndObject();
      g.writeEndObject();
    } catch (IOException e) {
      throw new UncheckedIOException(e); // a StringWriter does not fail
    }
    return out.toString();
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
    return o instanceof ChunkEvent c && sequence == c.sequence && jobId.equals(c.jobId) && body().equals(c.body());
  }

  @Override
  public int hashCode() {
    return Objects.hash(jobId, sequence, body());
  }

  @Override
  public String toString() {
    return encoded();
  }
}
