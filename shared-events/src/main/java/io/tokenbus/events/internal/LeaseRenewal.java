package io.tokenbus.events.internal;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;

/** A worker still runs these jobs: their leases last until {@code untilMs} (epoch ms). */
public record LeaseRenewal(List<String> jobIds, long untilMs) {
  public LeaseRenewal {
    jobIds = List.copyOf(jobIds);
  }

  public JsonObject toJson() {
    return new JsonObject().put("jobIds", new JsonArray(jobIds)).put("untilMs", untilMs);
  }

  @SuppressWarnings("unchecked")
  public static LeaseRenewal fromJson(JsonObject j) {
    return new LeaseRenewal(j.getJsonArray("jobIds").getList(), j.getLong("untilMs"));
  }
}
