package io.tokenbus.events.internal;

import io.tokenbus.events.JobIds;
import io.tokenbus.events.JobRequest;
import io.vertx.core.json.JsonObject;

/** A validated job handed from the gateway to the checkpoint store (open) and to an agent worker (run). */
public record JobAssignment(String jobId, JobRequest request, long createdAt) {
  public JobAssignment {
    JobIds.require(jobId);
  }

  public JsonObject toJson() {
    return new JsonObject().put("jobId", jobId).put("request", request.toJson()).put("createdAt", createdAt);
  }

  public static JobAssignment fromJson(JsonObject j) {
    return new JobAssignment(j.getString("jobId"), JobRequest.fromJson(j.getJsonObject("request")), j.getLong("createdAt", 0L));
  }
}
