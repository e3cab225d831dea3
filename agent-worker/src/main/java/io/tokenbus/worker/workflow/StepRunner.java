package io.tokenbus.worker.workflow;

import io.tokenbus.events.Step;
import io.tokenbus.worker.backend.ChatMessage;
import io.vertx.core.Future;
import java.util.List;

/** What a workflow can do with its job: stream model output or tool text under a step, report progress. */
public interface StepRunner {
  /** The model serving this job. */
  String model();

  /**
   * Streams one completion; every token goes out as part of {@code step}. Completes with the step's full text.
   * {@code maxTokens} caps the step ({@code 0}: the backend's default).
   */
  Future<String> generate(Step step, List<ChatMessage> messages, int maxTokens);

  /** Streams text that is not model output (for example search results) as part of {@code step}. */
  void text(Step step, String text);

  /** Reports progress 0..100 within {@code step}. */
  void progress(int percent, Step step);
}
