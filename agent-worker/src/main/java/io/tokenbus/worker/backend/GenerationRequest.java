package io.tokenbus.worker.backend;

import java.util.List;

/**
 * One streamed completion: the model to use (never null once a backend is chosen), the chat, a seed, and a token cap
 * ({@code 0} = the backend's default).
 */
public record GenerationRequest(String model, List<ChatMessage> messages, long seed, int maxTokens) {
  public GenerationRequest {
    messages = List.copyOf(messages);
  }
}
