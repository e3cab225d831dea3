package io.tokenbus.worker.backend;

import java.util.List;

/**
 * One streamed completion: the model to use (never null once a backend is chosen), the chat, a seed, a token cap
 * ({@code 0} = the backend's default) and {@code partial}: the start of the answer already streamed by a worker that
 * died ({@code ""}: none), which a backend that {@link ModelBackend#canContinue() can continue} carries on from.
 */
public record GenerationRequest(String model, List<ChatMessage> messages, long seed, int maxTokens, String partial) {
  public GenerationRequest {
    messages = List.copyOf(messages);
    partial = partial == null ? "" : partial;
  }

  public GenerationRequest(String model, List<ChatMessage> messages, long seed, int maxTokens) {
    this(model, messages, seed, maxTokens, "");
  }
}
