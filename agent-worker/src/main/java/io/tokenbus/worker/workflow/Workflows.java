package io.tokenbus.worker.workflow;

import io.tokenbus.events.JobType;

/** The workflow of each job type: ask streams one answer; the others think, (search,) then write. */
public final class Workflows {
  private final Workflow ask;
  private final Workflow research;
  private final Workflow code;
  private final Workflow analysis;

  public Workflows(SearchTool search) {
    Prompts prompts = new Prompts();
    this.ask = new AskWorkflow(prompts);
    this.research = new StagedWorkflow("research", prompts, search);
    this.code = new StagedWorkflow("code", prompts, null);
    this.analysis = new StagedWorkflow("analysis", prompts, null);
  }

  public Workflow forType(JobType type) {
    return switch (type) {
      case ASK -> ask;
      case RESEARCH -> research;
      case CODE -> code;
      case ANALYSIS -> analysis;
    };
  }
}
