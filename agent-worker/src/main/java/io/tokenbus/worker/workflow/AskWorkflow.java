package io.tokenbus.worker.workflow;

import io.tokenbus.events.JobRequest;
import io.tokenbus.events.Step;
import io.tokenbus.worker.backend.ChatMessage;
import io.vertx.core.Future;
import java.util.List;

/** {@code type: ask}: one streamed answer. */
public final class AskWorkflow implements Workflow {
  @Override
  public Future<Void> run(JobRequest request, StepRunner runner) {
    runner.progress(0, Step.WRITING);
    return runner.generate(Step.WRITING, List.of(ChatMessage.user(request.prompt())))
      .onSuccess(text -> runner.progress(100, Step.WRITING))
      .mapEmpty();
  }
}
