package io.tokenbus.events;

import io.vertx.core.json.JsonObject;

/** {@code metadata} of model:chunk. Every field is optional. */
public record ChunkMetadata(Step step, String model, Double tokensPerSec, Integer tokens) {
  public static final String STEP = "step";
  public static final String MODEL = "model";
  public static final String TOKENS_PER_SEC = "tokens_per_sec";
  public static final String TOKENS = "tokens";
  public static final ChunkMetadata NONE = new ChunkMetadata(null, null, null, null);

  public JsonObject toJson() {
    JsonObject j = new JsonObject();
    if (step != null) {
      j.put(STEP, step.wire());
    }
    if (model != null) {
      j.put(MODEL, model);
    }
    if (tokensPerSec != null) {
      j.put(TOKENS_PER_SEC, tokensPerSec);
    }
    if (tokens != null) {
      j.put(TOKENS, tokens);
    }
    return j;
  }

  public static ChunkMetadata fromJson(JsonObject j) {
    if (j == null) {
      return NONE;
    }
    Object tps = j.getValue(TOKENS_PER_SEC);
    if (tps != null && !(tps instanceof Number)) {
      throw TokenbusException.invalid(TOKENS_PER_SEC + " must be a number");
    }
    return new ChunkMetadata(Step.fromWire(Json.string(j, STEP)), Json.string(j, MODEL),
      tps == null ? null : ((Number) tps).doubleValue(), j.containsKey(TOKENS) ? Json.integer(j, TOKENS) : null);
  }
}
