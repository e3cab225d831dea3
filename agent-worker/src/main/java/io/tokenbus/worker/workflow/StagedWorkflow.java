package io.tokenbus.worker.workflow;

import io.tokenbus.events.JobRequest;
import io.tokenbus.events.Step;
import io.tokenbus.worker.backend.ChatMessage;
import io.vertx.core.Future;
import java.util.List;
import java.util.Map;

/**
 * research, code and analysis: a {@code thinking} step (the plan), a {@code searching} step when a search tool is
 * given (research), and a {@code writing} step that produces the answer. Each step streams under its name; progress
 * goes 0 → 30 (plan done) → 60 (search done) → 100.
 */
public final class StagedWorkflow implements Workflow {
  private final String type;
  private final Prompts prompts;
  private final SearchTool search;

  public StagedWorkflow(String type, Prompts prompts, SearchTool search) {
    this.type = type;
    this.prompts = prompts;
    this.search = search;
  }

  @Override
  public Future<Void> run(JobRequest request, StepRunner runner) {
    Map<String, String> vars = Map.of("prompt", request.prompt());
    runner.progress(0, Step.THINKING);
    return runner.generate(Step.THINKING, List.of(
        ChatMessage.system(prompts.text(type + ".thinking.system", vars)),
        ChatMessage.user(prompts.text(type + ".thinking.user", vars))), prompts.maxTokens(type + ".thinking"))
      .compose(plan -> {
        runner.progress(30, search != null ? Step.SEARCHING : Step.WRITING);
        return (search != null ? searching(request, runner) : Future.succeededFuture(""))
          .map(sources -> Map.of("prompt", request.prompt(), "plan", plan, "sources", sources));
      })
      .compose(all -> {
        runner.progress(60, Step.WRITING);
        return runner.generate(Step.WRITING, List.of(
          ChatMessage.system(prompts.text(type + ".writing.system", all)),
          ChatMessage.user(prompts.text(type + ".writing.user", all))), prompts.maxTokens(type + ".writing"));
      })
      .onSuccess(answer -> runner.progress(100, Step.WRITING))
      .mapEmpty();
  }

  /** Streams what the search found (as text of the searching step) and hands it to the writing step. */
  private Future<String> searching(JobRequest request, StepRunner runner) {
    runner.text(Step.SEARCHING, "Searching the local documents…\n");
    return search.search(request.prompt(), 3).map(hits -> {
      StringBuilder sources = new StringBuilder();
      if (hits.isEmpty()) {
        String none = "No local documents matched (set TOKENBUS_DOCS_DIR to a folder of .md/.txt files).\n";
        runner.text(Step.SEARCHING, none);
        sources.append(none);
      }
      for (SearchTool.Hit h : hits) {
        String line = "- " + h.source() + ": " + h.snippet().replace('\n', ' ') + "\n";
        // One event per word keeps the search visibly streaming like model output.
        for (String word : line.split("(?<= )")) {
          runner.text(Step.SEARCHING, word);
        }
        sources.append(line);
      }
      return sources.toString();
    });
  }
}
