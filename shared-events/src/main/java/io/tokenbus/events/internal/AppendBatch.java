package io.tokenbus.events.internal;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;

/** Appends of several jobs sent together; answered by an {@link AppendBatchResult} with one outcome per append. */
public record AppendBatch(List<AppendRequest> appends) {
  public AppendBatch {
    appends = List.copyOf(appends);
  }

  public JsonObject toJson() {
    JsonArray a = new JsonArray(new ArrayList<>(appends.size()));
    appends.forEach(r -> a.add(r.toJson()));
    return new JsonObject().put("appends", a);
  }

  public static AppendBatch fromJson(JsonObject j) {
    JsonArray a = j.getJsonArray("appends");
    List<AppendRequest> out = new ArrayList<>(a.size());
    for (int i = 0; i < a.size(); i++) {
      out.add(AppendRequest.fromJson(a.getJsonObject(i)));
    }
    return new AppendBatch(out);
  }
}
