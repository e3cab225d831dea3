package io.tokenbus.worker.workflow;

import io.tokenbus.events.JobRequest;
import io.tokenbus.events.Step;
import io.tokenbus.worker.backend.ChatMessage;
import io.vertx.core.Future;
import java.util.List;
import java.util.Map;

/**
 * research, code and analysis: a {@code thinking} step (the plan), a {@code searching} step when a search tool is
 * given (research), and a {@code writing} step that produces the answer. Each step streams under its name. Progress:
 * 0 at the start of thinking, then 30 (searching) and 60 (writing) with a search, or 40 (writing) without; 100 at
 * the end. Prompts come from {@code prompts.properties} under {@code <type>.<step>.*}.
 */
public final class StagedWorkflow implements Workflow {
  static final int SEARCH_HITS = 3;

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
        if (search == null) {
          return Future.succeededFuture(Map.of("prompt", request.prompt(), "plan", plan, "sources", ""));
        }
        runner.progress(30, Step.SEARCHING);
        return searching(request, runner).map(sources -> Map.of("prompt", request.prompt(), "plan", plan, "sources", sources));
      })
      .compose(all -> {
        runner.progress(search == null ? 40 : 60, Step.WRITING);
        return runner.generate(Step.WRITING, List.of(
          ChatMessage.system(prompts.text(type + ".writing.system", all)),
          ChatMessage.user(prompts.text(type + ".writing.user", all))), prompts.maxTokens(type + ".writing"));
      })
      .onSuccess(answer -> runner.progress(100, Step.WRITING))
      .mapEmpty();
  }

  /**
   * Streams what the search found (as text of the searching step) and hands it to the writing step. A search that
   * is not configured, fails, or stopped early is said so, and the writer is told; the job goes on.
   */
  private Future<String> searching(JobRequest request, StepRunner runner) {
    String unavailable = search.unavailable();
    if (unavailable != null) {
      runner.text(Step.SEARCHING, unavailable + "\n");
      return Future.succeededFuture(unavailable);
    }
    runner.text(Step.SEARCHING, "Searching the documents…\n");
    return search.search(request.prompt(), SEARCH_HITS).map(found -> {
      StringBuilder sources = new StringBuilder();
      if (found.hits().isEmpty()) {
        String none = "No document matched.\n";
        runner.text(Step.SEARCHING, none);
        sources.append(none);
      }
      for (SearchTool.Hit h : found.hits()) {
        String line = "- " + h.source() + ": " + h.snippet().replace('\n', ' ') + "\n";
        // One event per word keeps the search visibly streaming like model output.
        for (String word : line.split("(?<= )")) {
          runner.text(Step.SEARCHING, word);
        }
        sources.append(line);
      }
      if (found.incomplete() != null) {
        String note = found.incomplete() + "\n";
        runner.text(Step.SEARCHING, note);
        sources.append(note);
      }
      return sources.toString();
    }).recover(e -> {
      String failed = "The search failed: " + e.getMessage() + "\n";
      runner.text(Step.SEARCHING, failed);
      return Future.succeededFuture(failed);
    });
  }
}
