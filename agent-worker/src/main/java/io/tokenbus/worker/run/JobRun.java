package io.tokenbus.worker.run;

import io.tokenbus.events.ChunkEvent;
import io.tokenbus.events.ChunkMetadata;
import io.tokenbus.events.JobError;
import io.tokenbus.events.JobRequest;
import io.tokenbus.events.JobState;
import io.tokenbus.events.ProgressEvent;
import io.tokenbus.events.Priority;
import io.tokenbus.events.StatusEvent;
import io.tokenbus.events.Step;
import io.tokenbus.events.internal.JobAssignment;
import io.tokenbus.worker.WorkerConfig;
import io.tokenbus.worker.backend.BackendException;
import io.tokenbus.worker.backend.ChatMessage;
import io.tokenbus.worker.backend.Generation;
import io.tokenbus.worker.backend.GenerationRequest;
import io.tokenbus.worker.backend.ModelBackend;
import io.tokenbus.worker.backend.TokenSink;
import io.tokenbus.worker.workflow.StepRunner;
import io.tokenbus.worker.workflow.Workflow;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import java.util.List;
import java.util.function.Consumer;

/**
 * One job on one worker: runs its workflow and turns backend tokens into dense, batched model:chunk events, which
 * its {@link JobLog} stores and only then publishes, so every chunk a client sees live is already replayable. When the
 * job's outbox or the worker's budget is full the model is paused. A job taken over from a dead worker replays its
 * stored part first ({@link StoredAnswer}). Runs on the owning verticle's context only.
 */
public final class JobRun implements StepRunner {
  private final Vertx vertx;
  private final WorkerConfig config;
  private final String jobId;
  private final JobRequest request;
  private final ModelBackend backend;
  private final String model;
  private final Consumer<JobRun> onDone;
  private final JobBudget budget;
  private final long startedAtNanos = System.nanoTime();
  private final Runnable resumeWhenRoom = this::maybeResume;

  private StringBuilder output = new StringBuilder();
  private final StringBuilder batchText = new StringBuilder();
  private final JobLog jobLog;
  private int batchTokens;
  private Step batchStep;
  private long flushTimer = -1;
  private long nextSequence = 1;
  private long tokenCount;
  private long firstTokenAt;

  private Generation current;
  private boolean paused;
  private boolean done;
  private WorkerMetrics.Job metrics = WorkerMetrics.Job.NONE;
  /** Set once the job is being handed over to another worker (a drain deadline); completes when all is stored. */
  private Promise<Void> handingOver;
  /** Set while a job taken over replays its stored part through the workflow; null once past it. */
  private StoredAnswer stored;

  public JobRun(Vertx vertx, WorkerConfig config, JobAssignment assignment, ModelBackend backend, String model,
                CheckpointWriter checkpoint, OutboxBudget budget, Consumer<JobRun> onDone) {
    this.budget = new JobBudget(budget, assignment.request().priority());
    this.vertx = vertx;
    this.config = config;
    this.jobId = assignment.jobId();
    this.request = assignment.request();
    this.backend = backend;
    this.model = model;
    this.onDone = onDone;
    this.jobLog = new JobLog(vertx, config, jobId, request.priority(), checkpoint, new JobLog.Listener() {
      @Override
      public void stored(int chunks) {
        JobRun.this.budget.give(chunks);
        maybeResume();
      }

      @Override
      public void refused() {
        stopGeneration();
      }

      @Override
      public void ended(StatusEvent published) {
        finish(published);
      }
    });
  }

  public String jobId() {
    return jobId;
  }

  public JobRequest request() {
    return request;
  }

  /**
   * Makes this run continue a job another worker started and died on: it owns the job at {@code epoch} and the store
   * holds {@code chunks} (1..n, dense). Call before {@link #start}; the workflow then runs again from the start and
   * picks up where the chunks end (see {@link StoredAnswer}), so clients see a pause and nothing else.
   */
  public JobRun continueFrom(long epoch, List<ChunkEvent> chunks) {
    jobLog.epoch(epoch);
    this.nextSequence = chunks.isEmpty() ? 1 : chunks.get(chunks.size() - 1).sequence() + 1;
    this.stored = new StoredAnswer(chunks);
    output.append(stored.all());
    if (output.length() > config.maxResultChars()) {
      output = null;
    }
    return this;
  }

  public long epoch() {
    return jobLog.epoch();
  }

  /**
   * Another worker owns this job now (its lease ran out while this worker was paused or cut off, and it was taken
   * over): stop at once and write or publish nothing more, the new owner carries on.
   */
  public void abandon() {
    stopGeneration();
    jobLog.abandon();
  }

  /**
   * The worker stops before the job ends (its drain deadline passed): stop the model, store what it produced, then
   * let go without a terminal. The caller releases the lease and another worker continues the job.
   */
  public Future<Void> handOver() {
    if (jobLog.closing()) {
      return Future.succeededFuture();
    }
    stopGeneration();
    flushBatch();
    handingOver = Promise.promise();
    jobLog.handOver();
    return handingOver.future();
  }

  /** Records this job's timings and outcome in {@code m}. */
  public JobRun metrics(WorkerMetrics.Job m) {
    this.metrics = m;
    jobLog.metrics(m);
    return this;
  }

  public void start(Workflow workflow) {
    Future<Void> run;
    try {
      run = workflow.run(request, this);
    } catch (RuntimeException e) {
      run = Future.failedFuture(e);
    }
    run.onComplete(ar -> {
      if (ar.succeeded()) {
        close(JobState.COMPLETED, null);
      } else if (ar.cause() instanceof BackendException be) {
        close(JobState.FAILED, be.toJobError());
      } else {
        close(JobState.FAILED, new JobError(JobError.INTERNAL, String.valueOf(ar.cause().getMessage())));
      }
    });
  }

  /** Stops generation now; what was produced so far is persisted, then job:cancelled ends the stream. */
  public void cancel() {
    close(JobState.CANCELLED, null);
  }

  /** Ends the job as failed with {@code error}, keeping what was produced (a worker stopping past its drain). */
  public void fail(JobError error) {
    close(JobState.FAILED, error);
  }

  @Override
  public String model() {
    return model;
  }

  @Override
  public Future<String> generate(Step step, List<ChatMessage> messages, int maxTokens) {
    if (jobLog.closing()) {
      return Future.failedFuture(new BackendException(JobError.INTERNAL, "job is closing"));
    }
    String partial = "";
    if (replaying() != null) {
      StoredAnswer.Taken before = stored.take(step);
      if (!stored.streaming(step)) {
        return Future.succeededFuture(before.text()); // over before the takeover: its text, no model call
      }
      stored = null; // the step that was streaming: from here on everything is new
      partial = before.text();
      if (!partial.isEmpty() && !backend.canContinue()) {
        return Future.failedFuture(new BackendException(JobError.WORKER_LOST, "the worker running this job stopped and backend "
          + backend.name() + " cannot continue a partial answer (see docs/backends.md)"));
      }
      if (maxTokens > 0 && before.tokens() >= maxTokens) {
        return Future.succeededFuture(partial); // it had streamed all its tokens
      }
      maxTokens = maxTokens > 0 ? maxTokens - before.tokens() : 0;
    }
    Promise<String> promise = Promise.promise();
    StringBuilder stepText = new StringBuilder(partial);
    current = backend.generate(new GenerationRequest(model, messages, seed(), maxTokens, partial), new TokenSink() {
      @Override
      public void onToken(String text) {
        stepText.append(text);
        token(step, text);
      }

      @Override
      public void onReasoning(String text) {
        token(Step.THINKING, text); // streamed and part of the output, not of this step's answer text
      }

      @Override
      public void onEnd() {
        current = null;
        promise.tryComplete(stepText.toString());
      }

      @Override
      public void onError(BackendException error) {
        current = null;
        promise.tryFail(error);
      }
    });
    if (paused) {
      current.pause();
    }
    return promise.future();
  }

  @Override
  public void text(Step step, String text) {
    if (replaying() != null) {
      text = stored.skip(step, text);
    }
    token(step, text);
  }

  @Override
  public void progress(int percent, Step step) {
    if (jobLog.closing() || replaying() != null) { // clients saw the progress of the part a takeover replays
      return;
    }
    flushBatch();
    jobLog.add(new ProgressEvent(jobId, percent, step, null));
  }

  /** What a job taken over still replays from the store; null once everything stored was handed back. */
  private StoredAnswer replaying() {
    if (stored != null && stored.used()) {
      stored = null;
    }
    return stored;
  }

  private long seed() {
    return ((long) request.prompt().hashCode() << 8) ^ request.type().ordinal();
  }

  private void token(Step step, String text) {
    if (jobLog.closing() || text.isEmpty()) {
      return;
    }
    metrics.token();
    if (tokenCount++ == 0) {
      firstTokenAt = System.nanoTime();
    }
    if (output != null) {
      // Kept for `result` only up to the cap: beyond it the chunks (replayable) are the output, not a copy in memory.
      output.append(text);
      if (output.length() > config.maxResultChars()) {
        output = null;
      }
    }
    if (batchTokens > 0 && batchStep != step) {
      flushBatch();
    }
    batchStep = step;
    batchText.append(text);
    if (++batchTokens >= request.batch()) {
      flushBatch();
    } else if (flushTimer < 0) {
      flushTimer = vertx.setTimer(config.flushDelayMs(), id -> {
        flushTimer = -1;
        flushBatch();
      });
    }
  }

  private void flushBatch() {
    if (flushTimer >= 0) {
      vertx.cancelTimer(flushTimer);
      flushTimer = -1;
    }
    if (batchTokens == 0) {
      return;
    }
    ChunkEvent chunk = new ChunkEvent(jobId, batchText.toString(), nextSequence++, System.currentTimeMillis(),
      new ChunkMetadata(batchStep, model, tokensPerSecond(), batchTokens));
    batchText.setLength(0);
    batchTokens = 0;
    budget.take(1);
    boolean full = jobLog.size() + 1 >= config.maxBufferedChunks() || budget.exhausted();
    if (!paused && current != null && full) {
      paused = true;
      current.pause();
      budget.whenRoom(resumeWhenRoom);
    }
    jobLog.add(chunk);
  }

  private Double tokensPerSecond() {
    if (tokenCount < 2) {
      return null; // one token is no rate
    }
    // Over the time since the first token, at least 1 ms (a burst of tokens read at once has no measurable span).
    double secs = Math.max(0.001, (System.nanoTime() - firstTokenAt) / 1e9);
    // k tokens span k - 1 gaps: counting k over them made a steady 20 tokens/s stream say 40/s at its second token.
    return Math.round((tokenCount - 1) / secs * 10) / 10.0;
  }

  private void close(JobState state, JobError error) {
    if (jobLog.closing()) {
      return;
    }
    stopGeneration();
    flushBatch();
    String result = state == JobState.COMPLETED && output != null ? output.toString() : null;
    jobLog.close(new StatusEvent(state, jobId, nextSequence - 1, result, error));
  }

  private void stopGeneration() {
    if (current != null) {
      current.cancel();
      current = null;
    }
  }

  /**
   * Whether some client follows this job (a gateway lists it, see {@code Watchers}): an interactive job nobody follows
   * runs as background until somebody does, so under overload it slows down before the jobs people watch.
   */
  public void followed(boolean followed) {
    Priority p = followed ? request.priority() : Priority.BACKGROUND;
    if (budget.priority(p)) {
      jobLog.priority(p);
      if (paused) {
        budget.forget(resumeWhenRoom);
        maybeResume();
      }
    }
  }

  /** The priority it runs at now: its request's, or background while nobody follows it. */
  public Priority priority() {
    return budget.priority();
  }

  public Priority requestedPriority() {
    return request.priority();
  }

  public long startedAtNanos() {
    return startedAtNanos;
  }

  private void maybeResume() {
    if (!paused) {
      return;
    }
    if (done) {
      return;
    }
    if (jobLog.size() <= config.maxBufferedChunks() / 2 && !budget.exhausted()) {
      paused = false;
      budget.forget(resumeWhenRoom);
      if (current != null) {
        current.resume();
      }
    } else {
      budget.whenRoom(resumeWhenRoom);
    }
  }

  private void finish(StatusEvent published) {
    if (!done) {
      done = true;
      metrics.ended(published != null ? published : jobLog.terminal());
      budget.forget(resumeWhenRoom);
      budget.give(jobLog.discard());
      if (flushTimer >= 0) {
        vertx.cancelTimer(flushTimer);
      }
      onDone.accept(this);
    }
    if (handingOver != null) {
      handingOver.tryComplete();
    }
  }

  /** For tests: true once nothing more will be sent. */
  public boolean isDone() {
    return done;
  }

}
