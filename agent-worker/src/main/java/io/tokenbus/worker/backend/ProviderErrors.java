package io.tokenbus.worker.backend;

import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;

/** What a provider says went wrong, from the body of its error answer (or an error event in its stream). */
final class ProviderErrors {
  private static final int MAX_CHARS = 1000;

  private ProviderErrors() {}

  /**
   * The provider's error text from an error body: {"error": {"message", "code"|"type"}} (OpenAI, vLLM, llama.cpp),
   * {"error": "..."} (Ollama, LM Studio), {"message": ...} (old vLLM), else the raw text, shortened.
   */
  static String text(String body) {
    try {
      JsonObject j = new JsonObject(body);
      Object e = j.getValue("error");
      if (e instanceof JsonObject o && o.getValue("message") != null) {
        Object code = o.getValue("code") != null ? o.getValue("code") : o.getValue("type");
        return shorten(o.getValue("message") + (code == null ? "" : " (" + code + ")"));
      }
      if (e != null && !(e instanceof Boolean)) {
        return shorten(String.valueOf(e));
      }
      if (j.getValue("message") != null) {
        return shorten(String.valueOf(j.getValue("message")));
      }
    } catch (DecodeException | ClassCastException notJson) {
      // plain text answer
    }
    return shorten(body.strip());
  }

  private static String shorten(String s) {
    return s.length() > MAX_CHARS ? s.substring(0, MAX_CHARS) + "…" : s;
  }
}
