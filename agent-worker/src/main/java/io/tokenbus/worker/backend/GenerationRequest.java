package io.tokenbus.worker.backend;

import java.util.List;

/** One streamed completion: the model to use (never null once a backend is chosen), the chat and a seed. */
public record GenerationRequest(String model, List<ChatMessage> messages, long seed) {
  public GenerationRequest {
    messages = List.copyOf(messages);
  }
}
