package io.tokenbus.events.internal;

import io.vertx.core.json.JsonObject;

/**
 * A gateway's live interactive chunks arrive {@code lateMs} (smoothed, rounded up) later than their jobs' best,
 * published on {@code tokenbus.gateway.pressure} every 100 ms while that is over a millisecond, and at once when it
 * rises: a backlog upstream of the gateway (in the event bus between worker and gateway processes, or in a worker)
 * shows there, where the workers' own signals may not see it; workers slow background generation when it is over
 * their bound. {@code watcherId} names the publisher (one per gateway event loop).
 */
public record InteractiveLate(String watcherId, long lateMs) {
  public InteractiveLate {
    if (watcherId == null || watcherId.isEmpty() || lateMs < 0) {
      throw new IllegalArgumentException("a watcher id and a lateness >= 0 are required");
    }
  }

  public JsonObject toJson() {
    return new JsonObject().put("watcherId", watcherId).put("lateMs", lateMs);
  }

  public static InteractiveLate fromJson(JsonObject j) {
    return new InteractiveLate(j.getString("watcherId"), j.getLong("lateMs"));
  }
}
