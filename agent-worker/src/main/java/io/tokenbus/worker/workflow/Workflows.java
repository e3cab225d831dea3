package io.tokenbus.worker.workflow;

import io.tokenbus.events.JobType;

/** The workflow of each job type. */
public final class Workflows {
  private final Workflow ask = new AskWorkflow();

  public Workflow forType(JobType type) {
    return ask;
  }
}
