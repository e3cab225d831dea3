package io.tokenbus.events.internal;

import io.tokenbus.events.JobIds;
import io.vertx.core.json.JsonObject;

/** Ask the checkpoint store for a job's chunks after {@code afterSequence} (at most {@code limit}). */
public record ReplayRequest(String jobId, long afterSequence, int limit) {
  public ReplayRequest {
    JobIds.require(jobId);
    afterSequence = Math.max(0, afterSequence);
  }

  public JsonObject toJson() {
    return new JsonObject().put("jobId", jobId).put("afterSequence", afterSequence).put("limit", limit);
  }

  public static ReplayRequest fromJson(JsonObject j) {
    return new ReplayRequest(j.getString("jobId"), j.getLong("afterSequence"), j.getInteger("limit"));
  }
}
