package io.tokenbus.worker.workflow;

import io.tokenbus.events.JobRequest;
import io.vertx.core.Future;

/** How one job type turns a request into streamed steps. Completes when the answer is done. */
public interface Workflow {
  Future<Void> run(JobRequest request, StepRunner runner);
}
