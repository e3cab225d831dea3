package io.tokenbus.events.internal;

import io.tokenbus.events.JobState;
import io.tokenbus.events.StatusEvent;
import io.vertx.core.json.JsonObject;

/**
 * Outcome of an append. {@code accepted} is false when the job was already closed (for example cancelled by the
 * gateway): nothing was written and {@code terminal} is the stored terminal event. Otherwise {@code terminal} is the
 * terminal event just stored (with its final lastSequence), if the append carried one.
 */
public record AppendResult(boolean accepted, long lastSequence, JobState state, StatusEvent terminal) {
  public JsonObject toJson() {
    JsonObject j = new JsonObject().put("accepted", accepted).put("lastSequence", lastSequence).put("state", state.wire());
    if (terminal != null) {
      j.put("terminal", terminal.toJson());
    }
    return j;
  }

  public static AppendResult fromJson(JsonObject j) {
    JsonObject t = j.getJsonObject("terminal");
    return new AppendResult(j.getBoolean("accepted"), j.getLong("lastSequence"), JobState.fromWire(j.getString("state")),
      t == null ? null : StatusEvent.fromJson(t));
  }
}
