package io.tokenbus.worker.backend;

import io.tokenbus.events.JobError;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

/**
 * OpenAI-compatible streaming chat (OpenAI, vLLM, llama.cpp server, LM Studio, Ollama's /v1): {@code POST
 * /v1/chat/completions} with {@code stream: true}, SSE {@code data:} events of chat.completion.chunk, ended by
 * {@code data: [DONE]}. Role-only, empty and null deltas carry no text; the usage chunk has {@code choices: []} (or
 * none); an event with a truthy {@code error} (or of type {@code error}) is a failure. EOF without {@code [DONE]} or
 * a {@code finish_reason} is a cut stream. A 200 that is not {@code text/event-stream} is read as an error body.
 */
public final class OpenAiCompatibleBackend extends HttpChatBackend {
  public OpenAiCompatibleBackend(Vertx vertx, BackendConfig config, int maxConnections) {
    super(vertx, config, maxConnections);
  }

  /** Only when configured: OpenAI itself answers a final assistant message instead of continuing it. */
  @Override
  public boolean canContinue() {
    return !BackendConfig.CONTINUE_NONE.equals(config.continuation());
  }

  @Override
  String path() {
    return "/v1/chat/completions";
  }

  @Override
  JsonObject body(GenerationRequest r) {
    JsonObject body = chatBody(r)
      .put("stream_options", new JsonObject().put("include_usage", true));
    if (r.maxTokens() > 0) {
      body.put("max_tokens", r.maxTokens());
    }
    if (!r.partial().isEmpty() && BackendConfig.CONTINUE_FINAL_MESSAGE.equals(config.continuation())) {
      body.put("continue_final_message", true).put("add_generation_prompt", false); // vLLM, SGLang, Aphrodite
    }
    return body;
  }

  @Override
  boolean isStream(String contentType) {
    return contentType == null || !contentType.startsWith("application/json");
  }

  @Override
  Parser parser(Call call) {
    boolean[] finished = {false};
    SseDecoder sse = new SseDecoder(event -> {
      String data = event.data();
      if (call.isDone() || data.isEmpty()) {
        return;
      }
      if (data.startsWith("[DONE]")) {
        finished[0] = true;
        call.end();
        return;
      }
      if ("error".equals(event.type())) {
        call.fail(JobError.BACKEND_HTTP_ERROR, config.name() + " reported: " + ProviderErrors.text(data));
        return;
      }
      UnreadableStream.reading("an event", data, () -> chunk(call, new JsonObject(data), data, finished));
    }, MAX_LINE_BYTES);
    return new Parser() {
      @Override
      public void feed(Buffer bytes) {
        sse.feed(bytes);
      }

      @Override
      public void end() {
        if (finished[0]) {
          call.end();
        } else {
          call.fail(JobError.BACKEND_STREAM_CUT, config.name() + " stream ended without [DONE] or finish_reason");
        }
      }
    };
  }

  /** One chat.completion.chunk (or an error or usage event); marks {@code finished} on a finish_reason. */
  private void chunk(Call call, JsonObject j, String data, boolean[] finished) {
    Object error = j.getValue("error");
    if (error != null && !Boolean.FALSE.equals(error) && !"".equals(error)) {
      call.fail(JobError.BACKEND_HTTP_ERROR, config.name() + " reported: " + ProviderErrors.text(data));
      return;
    }
    JsonArray choices = j.getJsonArray("choices");
    if (choices == null || choices.isEmpty()) {
      return; // usage chunk
    }
    JsonObject choice = choices.getJsonObject(0);
    if (choice == null) {
      throw new UnreadableStream("an event of an unexpected shape", data);
    }
    JsonObject delta = choice.getJsonObject("delta");
    // Reasoning models: vLLM and Ollama's /v1 send delta.reasoning, llama.cpp delta.reasoning_content.
    Object reasoning = delta == null ? null : delta.getValue(delta.containsKey("reasoning") ? "reasoning" : "reasoning_content");
    if (reasoning instanceof String r) {
      call.reasoning(r);
    }
    if (delta != null && delta.getValue("content") instanceof String s) {
      call.token(s);
    }
    if (choice.getValue("finish_reason") != null) {
      finished[0] = true;
    }
  }
}
