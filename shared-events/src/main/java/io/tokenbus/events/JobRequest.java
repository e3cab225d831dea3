package io.tokenbus.events;

import io.vertx.core.json.JsonObject;

/**
 * The body of {@code POST /api/jobs} and {@code jobs.submit}. Validated on construction from JSON; unknown fields are
 * ignored so clients can send extra data.
 */
public record JobRequest(String prompt, JobType type, String model, String backend, int batch, Priority priority) {
  public static final int MAX_PROMPT_CHARS = 32768;
  public static final int MAX_BATCH = 64;
  public static final int MAX_NAME_CHARS = 128;

  public static final String PROMPT = "prompt";
  public static final String TYPE = "type";
  public static final String MODEL = "model";
  public static final String BACKEND = "backend";
  public static final String BATCH = "batch";
  public static final String PRIORITY = "priority";

  public JobRequest {
    if (prompt == null || prompt.isEmpty()) {
      throw TokenbusException.invalid("prompt is required and must be a non-empty string");
    }
    if (prompt.length() > MAX_PROMPT_CHARS) {
      throw TokenbusException.invalid("prompt must be at most " + MAX_PROMPT_CHARS + " characters");
    }
    if (batch < 1 || batch > MAX_BATCH) {
      throw TokenbusException.invalid("batch must be an integer between 1 and " + MAX_BATCH);
    }
    checkName(MODEL, model);
    checkName(BACKEND, backend);
    type = type == null ? JobType.ASK : type;
    priority = priority == null ? Priority.INTERACTIVE : priority;
  }

  public static JobRequest ask(String prompt) {
    return new JobRequest(prompt, JobType.ASK, null, null, 1, Priority.INTERACTIVE);
  }

  public JobRequest withBatch(int k) {
    return new JobRequest(prompt, type, model, backend, k, priority);
  }

  public JobRequest withType(JobType t) {
    return new JobRequest(prompt, t, model, backend, batch, priority);
  }

  private static void checkName(String field, String value) {
    if (value != null && (value.isEmpty() || value.length() > MAX_NAME_CHARS)) {
      throw TokenbusException.invalid(field + " must be 1.." + MAX_NAME_CHARS + " characters");
    }
  }

  public static JobRequest fromJson(JsonObject json) {
    if (json == null) {
      throw TokenbusException.invalid("body must be a JSON object");
    }
    return new JobRequest(
      Json.string(json, PROMPT),
      json.containsKey(TYPE) ? JobType.fromWire(Json.string(json, TYPE)) : null,
      Json.string(json, MODEL),
      Json.string(json, BACKEND),
      json.containsKey(BATCH) ? Json.integer(json, BATCH) : 1,
      json.containsKey(PRIORITY) ? Priority.fromWire(Json.string(json, PRIORITY)) : null);
  }

  public JsonObject toJson() {
    JsonObject j = new JsonObject().put(PROMPT, prompt).put(TYPE, type.wire()).put(BATCH, batch)
      .put(PRIORITY, priority.wire());
    if (model != null) {
      j.put(MODEL, model);
    }
    if (backend != null) {
      j.put(BACKEND, backend);
    }
    return j;
  }
}
