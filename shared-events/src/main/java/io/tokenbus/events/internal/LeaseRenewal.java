package io.tokenbus.events.internal;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;

/**
 * A worker still runs these jobs: extend their leases by {@code leaseMs}, counted on the store's clock (Redis
 * {@code TIME}), so no two machines' clocks are ever compared.
 */
public record LeaseRenewal(List<String> jobIds, long leaseMs) {
  public LeaseRenewal {
    jobIds = List.copyOf(jobIds);
  }

  public JsonObject toJson() {
    return new JsonObject().put("jobIds", new JsonArray(jobIds)).put("leaseMs", leaseMs);
  }

  @SuppressWarnings("unchecked")
  public static LeaseRenewal fromJson(JsonObject j) {
    return new LeaseRenewal(j.getJsonArray("jobIds").getList(), j.getLong("leaseMs"));
  }
}
