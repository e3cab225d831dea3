package io.tokenbus.worker.backend;

import io.vertx.core.Future;

/**
 * A source of streamed completions: the built-in local generator, an Ollama server, an OpenAI-compatible server.
 * Implementations are non-blocking and deliver tokens on the calling context.
 */
public interface ModelBackend {
  /** Name jobs pick it by ({@code backend} field), e.g. {@code local}, {@code ollama}. */
  String name();

  /** Model used when a job names none. */
  String defaultModel();

  /**
   * Whether a request with a {@code partial} answer is continued from exactly that text (the job of a dead worker
   * goes on where its stored chunks end). Backends that would start a new answer must say false.
   */
  default boolean canContinue() {
    return false;
  }

  /** Starts one completion. Tokens, end or error arrive at {@code sink}; the returned handle pauses or cancels it. */
  Generation generate(GenerationRequest request, TokenSink sink);

  /** Releases clients and timers. */
  default Future<Void> close() {
    return Future.succeededFuture();
  }
}
