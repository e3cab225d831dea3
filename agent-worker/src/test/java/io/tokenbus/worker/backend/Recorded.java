package io.tokenbus.worker.backend;

import io.vertx.core.json.Json;

/** Wire shapes as real providers send them (sources: the Ollama API docs and the OpenAI chat streaming schema, as summarised in docs/backends.md), for the fake providers. */
public final class Recorded {
  public static final String NDJSON = "application/x-ndjson";
  public static final String SSE = "text/event-stream";

  private Recorded() {}

  /** An OpenAI chat.completion.chunk event with the fields OpenAI repeats on every chunk. */
  public static String openAiChunk(String deltaJson, String finish) {
    return "data: {\"id\":\"chatcmpl-123\",\"object\":\"chat.completion.chunk\",\"created\":1694268190,\"model\":\"gpt-4o-mini\","
      + "\"system_fingerprint\":\"fp_44709d6fcb\",\"choices\":[{\"index\":0,\"delta\":" + deltaJson
      + ",\"logprobs\":null,\"finish_reason\":" + (finish == null ? "null" : "\"" + finish + "\"") + "}],\"usage\":null}\n\n";
  }

  public static String openAiText(String text) {
    return openAiChunk("{\"content\":" + Json.encode(text) + "}", null);
  }

  public static final String OPENAI_ROLE = openAiChunk("{\"role\":\"assistant\",\"content\":\"\"}", null);
  public static final String OPENAI_FINISH = openAiChunk("{}", "stop");
  public static final String OPENAI_USAGE = "data: {\"id\":\"chatcmpl-123\",\"object\":\"chat.completion.chunk\","
    + "\"created\":1694268190,\"model\":\"gpt-4o-mini\",\"choices\":[],\"usage\":{\"prompt_tokens\":9,"
    + "\"completion_tokens\":12,\"total_tokens\":21}}\n\n";
  public static final String OPENAI_DONE = "data: [DONE]\n\n";

  /** An Ollama /api/chat line; the done line carries the metrics Ollama adds. */
  public static String ollamaLine(String content, boolean done) {
    return "{\"model\":\"llama3.2\",\"created_at\":\"2025-10-26T17:15:24.097767Z\",\"message\":{\"role\":\"assistant\","
      + "\"content\":" + Json.encode(content) + "},\"done\":" + done
      + (done ? ",\"done_reason\":\"stop\",\"total_duration\":4883583458,\"load_duration\":1334875,\"prompt_eval_count\":26,"
      + "\"prompt_eval_duration\":342546000,\"eval_count\":282,\"eval_duration\":4535599000" : "") + "}\n";
  }

  public static final String OPENAI_401 = "{\"error\":{\"message\":\"Incorrect API key provided: sk-abc***xyz. You can find "
    + "your API key at https://platform.openai.com/account/api-keys.\",\"type\":\"invalid_request_error\",\"param\":null,"
    + "\"code\":\"invalid_api_key\"}}";
  public static final String OPENAI_404 = "{\"error\":{\"message\":\"The model `gpt-x` does not exist or you do not have "
    + "access to it.\",\"type\":\"invalid_request_error\",\"param\":null,\"code\":\"model_not_found\"}}";
  public static final String OPENAI_429 = "{\"error\":{\"message\":\"Rate limit reached for gpt-4o in organization org-1 on "
    + "tokens per min (TPM): Limit 30000, Used 22343, Requested 10955. Please try again in 6.596s.\",\"type\":\"tokens\","
    + "\"param\":null,\"code\":\"rate_limit_exceeded\"}}";
  public static final String OPENAI_500 = "{\"error\":{\"message\":\"The server had an error while processing your request. "
    + "Sorry about that!\",\"type\":\"server_error\",\"param\":null,\"code\":null}}";
  public static final String OLLAMA_404 = "{\"error\":\"model 'nope' not found\"}";
  public static final String OLLAMA_MID_STREAM = "{\"error\":\"an error was encountered while running the model\"}\n";
}
