package io.tokenbus.events.internal;

import io.tokenbus.events.ErrorCode;
import io.tokenbus.events.TokenbusException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;

/** One outcome per append of an {@link AppendBatch}, in the same order: a result or a coded failure. */
public record AppendBatchResult(List<Outcome> outcomes) {
  public record Outcome(AppendResult result, TokenbusException failure) {}

  public AppendBatchResult {
    outcomes = List.copyOf(outcomes);
  }

  public JsonObject toJson() {
    JsonArray a = new JsonArray(new ArrayList<>(outcomes.size()));
    for (Outcome o : outcomes) {
      a.add(o.result() != null ? new JsonObject().put("ok", o.result().toJson()) : o.failure().toJson());
    }
    return new JsonObject().put("outcomes", a);
  }

  public static AppendBatchResult fromJson(JsonObject j) {
    JsonArray a = j.getJsonArray("outcomes");
    List<Outcome> out = new ArrayList<>(a.size());
    for (int i = 0; i < a.size(); i++) {
      JsonObject o = a.getJsonObject(i);
      out.add(o.containsKey("ok") ? new Outcome(AppendResult.fromJson(o.getJsonObject("ok")), null)
        : new Outcome(null, new TokenbusException(ErrorCode.fromId(o.getString("error")), o.getString("message"))));
    }
    return new AppendBatchResult(out);
  }
}
