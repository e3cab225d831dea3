package io.tokenbus.worker.backend;

import io.tokenbus.events.JobError;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;

/**
 * Ollama's native streaming chat: {@code POST /api/chat}, one JSON object per line (NDJSON); {@code message.content}
 * carries text, {@code done: true} ends (that line may still carry text), a line with {@code error} is a failure even
 * after HTTP 200 (Ollama then ends the stream without {@code done}). Reasoning in {@code message.thinking} streams
 * as the job's {@code thinking} step.
 */
public final class OllamaBackend extends HttpChatBackend {
  public OllamaBackend(Vertx vertx, BackendConfig config, int maxConnections) {
    super(vertx, config, maxConnections);
  }

  /** Ollama's /api/chat continues a final assistant message instead of answering it (ollama/ollama#6778). */
  @Override
  public boolean canContinue() {
    return true;
  }

  @Override
  String path() {
    return "/api/chat";
  }

  @Override
  JsonObject body(GenerationRequest r) {
    JsonObject body = chatBody(r);
    if (r.maxTokens() > 0) {
      body.put("options", new JsonObject().put("num_predict", r.maxTokens()));
    }
    return body;
  }

  @Override
  Parser parser(Call call) {
    boolean[] finished = {false};
    LineDecoder lines = new LineDecoder(line -> {
      if (line.isBlank() || finished[0] || call.isDone()) {
        return;
      }
      UnreadableStream.reading("a line", line, () -> {
        JsonObject j = new JsonObject(line);
        if (j.getValue("error") != null) {
          call.fail(JobError.BACKEND_HTTP_ERROR, config.name() + " reported: " + ProviderErrors.text(line));
          return;
        }
        JsonObject message = j.getJsonObject("message");
        if (message != null && message.getValue("thinking") instanceof String t) {
          call.reasoning(t);
        }
        if (message != null && message.getValue("content") instanceof String s) {
          call.token(s);
        }
        if (Boolean.TRUE.equals(j.getBoolean("done"))) {
          finished[0] = true;
          call.end();
        }
      });
    }, MAX_LINE_BYTES);
    return new Parser() {
      @Override
      public void feed(Buffer bytes) {
        lines.feed(bytes);
      }

      @Override
      public void end() {
        lines.finish(); // the last line may lack its LF
        if (!finished[0]) {
          call.fail(JobError.BACKEND_STREAM_CUT, config.name() + " stream ended before done:true");
        }
      }
    };
  }
}
