package io.tokenbus.events.internal;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;

/**
 * A worker still runs these jobs: extend their leases by {@code leaseMs}, counted on the store's clock (Redis
 * {@code TIME}), so no two machines' clocks are ever compared. {@code epochs[i]} is the owner epoch the worker holds
 * for {@code jobIds[i]}: a lease is only renewed for its owner.
 */
public record LeaseRenewal(List<String> jobIds, List<Long> epochs, long leaseMs) {
  public LeaseRenewal {
    jobIds = List.copyOf(jobIds);
    epochs = List.copyOf(epochs);
    if (epochs.size() != jobIds.size()) {
      throw new IllegalArgumentException("one epoch per job");
    }
  }

  public JsonObject toJson() {
    return new JsonObject().put("jobIds", new JsonArray(jobIds)).put("epochs", new JsonArray(epochs)).put("leaseMs", leaseMs);
  }

  @SuppressWarnings("unchecked")
  public static LeaseRenewal fromJson(JsonObject j) {
    List<Long> epochs = j.getJsonArray("epochs").stream().map(e -> ((Number) e).longValue()).toList();
    return new LeaseRenewal(j.getJsonArray("jobIds").getList(), epochs, j.getLong("leaseMs"));
  }

  /**
   * The store's answer: the jobs whose lease is no longer this worker's (another worker took them over, they ended, or
   * the store lost them). The worker stops those without writing or publishing anything more.
   */
  public record Result(List<String> lost) {
    public Result {
      lost = List.copyOf(lost);
    }

    public JsonObject toJson() {
      return new JsonObject().put("lost", new JsonArray(lost));
    }

    @SuppressWarnings("unchecked")
    public static Result fromJson(JsonObject j) {
      return new Result(j.getJsonArray("lost").getList());
    }
  }
}
