package io.tokenbus.events.internal;

import io.tokenbus.events.ChunkEvent;
import io.tokenbus.events.JobIds;
import io.tokenbus.events.StatusEvent;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;

/**
 * Chunks of one job, in sequence order and dense, optionally followed by the terminal event. Appends are idempotent
 * per sequence; a terminal event is accepted once (the first terminal wins).
 *
 * <p>{@code epoch} fences workers: the owner epoch the writing worker holds (1 for the first worker, one more per
 * takeover). The store refuses a write from any other epoch, so a worker that was only paused cannot write into a job
 * another worker took over. {@link #UNFENCED} (0) is for closes that are not a worker's (the gateway's cancel
 * fallback, {@code worker_lost}): the first terminal wins whoever writes it.
 */
public record AppendRequest(String jobId, List<ChunkEvent> chunks, StatusEvent terminal, long epoch) {
  public static final long UNFENCED = 0;

  public AppendRequest {
    JobIds.require(jobId);
    chunks = List.copyOf(chunks);
  }

  /** An unfenced write (not a worker's). */
  public AppendRequest(String jobId, List<ChunkEvent> chunks, StatusEvent terminal) {
    this(jobId, chunks, terminal, UNFENCED);
  }

  public JsonObject toJson() {
    JsonArray arr = new JsonArray(new ArrayList<>(chunks.size()));
    chunks.forEach(c -> arr.add(c.toJson()));
    JsonObject j = new JsonObject().put("jobId", jobId).put("chunks", arr).put("epoch", epoch);
    if (terminal != null) {
      j.put("terminal", terminal.toJson());
    }
    return j;
  }

  public static AppendRequest fromJson(JsonObject j) {
    JsonArray arr = j.getJsonArray("chunks");
    List<ChunkEvent> chunks = new ArrayList<>(arr.size());
    for (int i = 0; i < arr.size(); i++) {
      chunks.add(ChunkEvent.fromJson(arr.getJsonObject(i)));
    }
    JsonObject t = j.getJsonObject("terminal");
    return new AppendRequest(j.getString("jobId"), chunks, t == null ? null : StatusEvent.fromJson(t),
      j.getLong("epoch", UNFENCED));
  }
}
