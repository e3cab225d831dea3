package io.tokenbus.events.internal;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.Set;

/**
 * The jobs a gateway's clients follow now, published by every gateway each second on {@code tokenbus.jobs.watched};
 * workers treat a running job that no gateway lists as background (nobody waits for its tokens), so under overload it
 * slows down before any job somebody watches. A list is valid for {@code validMs} (a gateway that stops publishing,
 * e.g. killed, no longer counts after it). {@code watcherId} names the publisher (one per gateway event loop).
 */
public record WatchedJobs(String watcherId, long validMs, Set<String> jobIds) {
  public WatchedJobs {
    jobIds = Set.copyOf(jobIds);
    if (watcherId == null || watcherId.isEmpty() || validMs <= 0) {
      throw new IllegalArgumentException("a watcher id and a positive validity are required");
    }
  }

  public JsonObject toJson() {
    return new JsonObject().put("watcherId", watcherId).put("validMs", validMs).put("jobIds", new JsonArray(jobIds.stream().toList()));
  }

  @SuppressWarnings("unchecked")
  public static WatchedJobs fromJson(JsonObject j) {
    return new WatchedJobs(j.getString("watcherId"), j.getLong("validMs"), Set.copyOf(j.getJsonArray("jobIds").getList()));
  }
}
