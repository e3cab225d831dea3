package io.tokenbus.events;

import io.vertx.core.json.JsonObject;

/**
 * {@code stream:error}: a stream cannot go on for a reason a resume would not fix, e.g. {@code history_lost} (the store
 * cannot prove the range the client needs is complete). Sent on SSE as {@code event: stream:error}, then the response
 * ends; the job itself may still be running. Not stored.
 */
public record StreamError(String jobId, ErrorCode code, String message) {
  public static final String TYPE = "stream:error";

  public JsonObject toJson() {
    return new JsonObject().put("type", TYPE).put("jobId", jobId)
      .put("error", new JobError(code.id, message).toJson());
  }
}
