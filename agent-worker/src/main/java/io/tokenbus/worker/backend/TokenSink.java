package io.tokenbus.worker.backend;

/**
 * Where a backend delivers one completion. Called on the worker's context; after {@link #onEnd} or {@link #onError}
 * (or after {@link Generation#cancel}) nothing more is delivered.
 */
public interface TokenSink {
  void onToken(String text);

  /** Text of the model's reasoning (Ollama {@code message.thinking}, OpenAI-compatible {@code delta.reasoning}). */
  default void onReasoning(String text) {
  }

  void onEnd();

  void onError(BackendException error);
}
