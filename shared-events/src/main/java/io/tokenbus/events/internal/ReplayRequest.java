package io.tokenbus.events.internal;

import io.tokenbus.events.JobIds;
import io.vertx.core.json.JsonObject;

/**
 * Ask the checkpoint store for a job's chunks after {@code afterSequence} (at most {@code limit}; 0: the store's page
 * size; {@link #STATE_ONLY}: none, the job's state only, which holds even when its chunks were lost).
 */
public record ReplayRequest(String jobId, long afterSequence, int limit) {
  public static final int STATE_ONLY = -1;

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
