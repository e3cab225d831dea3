package io.tokenbus.events.internal;

import io.tokenbus.events.ChunkEvent;
import io.tokenbus.events.JobState;
import io.tokenbus.events.Priority;
import io.tokenbus.events.StatusEvent;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.Json;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;

/**
 * One consistent read of a job from the checkpoint store: its state, last stored sequence, the requested chunks (in
 * order) and the terminal event once there is one. {@code hasMore} says the chunk list was cut at the limit.
 * {@code orphaned} is the store's verdict that the job is running (or queued) while its worker stopped renewing the
 * lease: judged on the store's clock, and only once the store has been reachable for a whole lease period (an outage
 * is not a dead worker). {@code priority} is the job's as submitted (null for a job stored before it was kept):
 * internal, so that a gateway which did not take the submission knows a background job when it reads one.
 */
public record JobSnapshot(String jobId, JobState state, long lastSequence, long createdAt, String type, String model,
                          List<ChunkEvent> chunks, StatusEvent terminal, boolean hasMore, boolean orphaned,
                          String prompt, Priority priority) {

  public JobSnapshot {
    chunks = List.copyOf(chunks);
  }

  public JobSnapshot(String jobId, JobState state, long lastSequence, long createdAt, String type, String model,
                     List<ChunkEvent> chunks, StatusEvent terminal, boolean hasMore, boolean orphaned, String prompt) {
    this(jobId, state, lastSequence, createdAt, type, model, chunks, terminal, hasMore, orphaned, prompt, null);
  }

  /** The same snapshot holding other chunks. */
  public JobSnapshot withChunks(List<ChunkEvent> other) {
    return new JobSnapshot(jobId, state, lastSequence, createdAt, type, model, other, terminal, hasMore, orphaned, prompt,
      priority);
  }

  /**
   * {@link #toReplayJson()} as UTF-8 JSON, with each chunk's stored bytes copied in as they are rather than parsed
   * and encoded again: a replay page holds thousands of chunks.
   */
  public Buffer replayJsonBytes() {
    Buffer b = Buffer.buffer(128 + chunks.size() * 256).appendString("{\"jobId\":").appendString(Json.encode(jobId))
      .appendString(",\"chunks\":[");
    for (int i = 0; i < chunks.size(); i++) {
      if (i > 0) {
        b.appendByte((byte) ',');
      }
      b.appendBuffer(chunks.get(i).encodedBytes());
    }
    b.appendString("],\"lastSequence\":").appendString(Long.toString(lastSequence)).appendString(",\"state\":\"")
      .appendString(state.wire()).appendByte((byte) '"');
    if (hasMore) {
      b.appendString(",\"hasMore\":true");
    }
    if (terminal != null) {
      b.appendString(",\"terminal\":").appendString(terminal.toJson().encode());
    }
    return b.appendByte((byte) '}');
  }

  /** The public reply shape of {@code job.replay} and {@code GET /api/jobs/{id}/chunks}. */
  public JsonObject toReplayJson() {
    JsonArray arr = new JsonArray(new ArrayList<>(chunks.size()));
    chunks.forEach(c -> arr.add(c.toJson()));
    JsonObject j = new JsonObject().put("jobId", jobId).put("chunks", arr).put("lastSequence", lastSequence)
      .put("state", state.wire());
    if (hasMore) {
      j.put("hasMore", true);
    }
    if (terminal != null) {
      j.put("terminal", terminal.toJson());
    }
    return j;
  }

  /** The public reply shape of {@code GET /api/jobs/{id}}. */
  public JsonObject toStatusJson() {
    JsonObject j = new JsonObject().put("jobId", jobId).put("state", state.wire()).put("lastSequence", lastSequence)
      .put("createdAt", createdAt).put("type", type);
    if (model != null) {
      j.put("model", model);
    }
    if (terminal != null && terminal.error() != null) {
      j.put("error", terminal.error().toJson());
    }
    if (prompt != null) {
      j.put("prompt", prompt);
    }
    return j;
  }

  public JsonObject toJson() {
    JsonObject j = toReplayJson().put("createdAt", createdAt).put("type", type).put("orphaned", orphaned);
    if (prompt != null) {
      j.put("prompt", prompt);
    }
    if (model != null) {
      j.put("model", model);
    }
    if (priority != null) {
      j.put("priority", priority.wire());
    }
    return j;
  }

  public static JobSnapshot fromJson(JsonObject j) {
    JsonArray arr = j.getJsonArray("chunks");
    List<ChunkEvent> chunks = new ArrayList<>(arr.size());
    for (int i = 0; i < arr.size(); i++) {
      chunks.add(ChunkEvent.fromJson(arr.getJsonObject(i)));
    }
    JsonObject t = j.getJsonObject("terminal");
    return new JobSnapshot(j.getString("jobId"), JobState.fromWire(j.getString("state")), j.getLong("lastSequence"),
      j.getLong("createdAt", 0L), j.getString("type"), j.getString("model"), chunks,
      t == null ? null : StatusEvent.fromJson(t), j.getBoolean("hasMore", false), j.getBoolean("orphaned", false), j.getString("prompt"),
      j.getString("priority") == null ? null : Priority.fromWire(j.getString("priority")));
  }
}
