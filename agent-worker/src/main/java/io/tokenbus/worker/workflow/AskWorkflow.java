package io.tokenbus.worker.workflow;

import io.tokenbus.events.JobRequest;
import io.tokenbus.events.Step;
import io.tokenbus.worker.backend.ChatMessage;
import io.vertx.core.Future;
import java.util.List;
import java.util.Map;

/** {@code type: ask}: one streamed answer (step {@code writing}). */
public final class AskWorkflow implements Workflow {
  private final Prompts prompts;

  public AskWorkflow(Prompts prompts) {
    this.prompts = prompts;
  }

  @Override
  public Future<Void> run(JobRequest request, StepRunner runner) {
    runner.progress(0, Step.WRITING);
    return runner.generate(Step.WRITING, List.of(ChatMessage.system(prompts.text("ask.system", Map.of())),
        ChatMessage.user(request.prompt())), 0)
      .onSuccess(text -> runner.progress(100, Step.WRITING))
      .mapEmpty();
  }
}
