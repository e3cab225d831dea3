package io.tokenbus.worker.run;

import io.tokenbus.events.Addresses;
import io.tokenbus.events.ChunkEvent;
import io.tokenbus.events.ChunkMetadata;
import io.tokenbus.events.JobError;
import io.tokenbus.events.JobRequest;
import io.tokenbus.events.JobState;
import io.tokenbus.events.ProgressEvent;
import io.tokenbus.events.StatusEvent;
import io.tokenbus.events.Step;
import io.tokenbus.events.TokenbusException;
import io.tokenbus.events.internal.AppendRequest;
import io.tokenbus.events.internal.AppendResult;
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
import io.vertx.core.eventbus.EventBus;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * One job on one worker: turns backend tokens into dense, batched model:chunk events, persists them through the
 * checkpoint store and only then publishes them, so every chunk a client sees live is already replayable.
 *
 * <p>At most one checkpoint write is in flight per job; chunks produced meanwhile wait in a bounded outbox and go out
 * together in the next write (natural batching under load). When the outbox is full the model is paused. Runs on
 * the owning verticle's context only.
 */
public final class JobRun implements StepRunner {
  private final Vertx vertx;
  private final EventBus eb;
  private final WorkerConfig config;
  private final String jobId;
  private final JobRequest request;
  private final ModelBackend backend;
  private final String model;
  private final Consumer<JobRun> onDone;
  private final CheckpointWriter checkpoint;
  private final OutboxBudget budget;
  private final Runnable resumeWhenRoom = this::maybeResume;

  private StringBuilder output = new StringBuilder();
  private final StringBuilder batchText = new StringBuilder();
  private final ArrayDeque<Object> outbox = new ArrayDeque<>();
  private int batchTokens;
  private Step batchStep;
  private long flushTimer = -1;
  private long nextSequence = 1;
  private long tokenCount;
  private long firstTokenAt;

  private Generation current;
  private boolean paused;
  private boolean appendInFlight;
  private StatusEvent terminal;
  private boolean done;
  private WorkerMetrics.Job metrics = WorkerMetrics.Job.NONE;
  /** The terminal event published for this job, if any. */
  private StatusEvent endedWith;

  public JobRun(Vertx vertx, WorkerConfig config, JobAssignment assignment, ModelBackend backend, String model,
                CheckpointWriter checkpoint, OutboxBudget budget, Consumer<JobRun> onDone) {
    this.checkpoint = checkpoint;
    this.budget = budget;
    this.vertx = vertx;
    this.eb = vertx.eventBus();
    this.config = config;
    this.jobId = assignment.jobId();
    this.request = assignment.request();
    this.backend = backend;
    this.model = model;
    this.onDone = onDone;
  }

  public String jobId() {
    return jobId;
  }

  public JobRequest request() {
    return request;
  }

  /** Records this job's timings and outcome in {@code m}. */
  public JobRun metrics(WorkerMetrics.Job m) {
    this.metrics = m;
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
    if (terminal != null) {
      return Future.failedFuture(new BackendException(JobError.INTERNAL, "job is closing"));
    }
    Promise<String> promise = Promise.promise();
    StringBuilder stepText = new StringBuilder();
    current = backend.generate(new GenerationRequest(model, messages, seed(), maxTokens), new TokenSink() {
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
    token(step, text);
  }

  @Override
  public void progress(int percent, Step step) {
    if (terminal != null) {
      return;
    }
    flushBatch();
    outbox.add(new ProgressEvent(jobId, percent, step, null));
    pump();
  }

  private long seed() {
    return ((long) request.prompt().hashCode() << 8) ^ request.type().ordinal();
  }

  private void token(Step step, String text) {
    if (terminal != null || text.isEmpty()) {
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
    outbox.add(new ChunkEvent(jobId, batchText.toString(), nextSequence++, System.currentTimeMillis(),
      new ChunkMetadata(batchStep, model, tokensPerSecond(), batchTokens)));
    batchText.setLength(0);
    batchTokens = 0;
    budget.take(request.priority(), 1);
    boolean full = outbox.size() >= config.maxBufferedChunks() || budget.exhausted(request.priority());
    if (!paused && current != null && full) {
      paused = true;
      current.pause();
      budget.whenRoom(request.priority(), resumeWhenRoom);
    }
    pump();
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
    if (terminal != null) {
      return;
    }
    if (current != null) {
      current.cancel();
      current = null;
    }
    flushBatch();
    String result = state == JobState.COMPLETED && output != null ? output.toString() : null;
    terminal = new StatusEvent(state, jobId, nextSequence - 1, result, error);
    pump();
  }

  /** Sends the next checkpoint write if none is in flight; publishes its events once it is stored. */
  private void pump() {
    if (appendInFlight || done || (outbox.isEmpty() && terminal == null)) {
      return;
    }
    List<ChunkEvent> chunks = new ArrayList<>();
    List<Object> publish = new ArrayList<>();
    while (!outbox.isEmpty() && chunks.size() < config.maxChunksPerAppend()) {
      Object e = outbox.poll();
      publish.add(e);
      if (e instanceof ChunkEvent c) {
        chunks.add(c);
      }
    }
    StatusEvent closing = outbox.isEmpty() ? terminal : null;
    if (chunks.isEmpty() && closing == null) {
      publish.forEach(this::publish); // progress only: nothing to persist
      pump();
      return;
    }
    appendInFlight = true;
    append(new AppendRequest(jobId, chunks, closing), System.nanoTime(), 50).onComplete(ar -> {
      appendInFlight = false;
      budget.give(request.priority(), chunks.size());
      if (ar.failed()) {
        // Never publish what is not stored: clients would see chunks no replay can give back. End the job instead.
        stopGeneration();
        failOnStoreError(TokenbusException.from(ar.cause()));
        return;
      }
      AppendResult r = ar.result();
      if (!r.accepted()) {
        // Closed by the store: a cancel fallback, a lost lease, or lost history (Redis restarted empty, a failover
        // to a lagging replica). Publish the store's one terminal; followers ignore a second copy.
        stopGeneration();
        if (r.terminal() != null) {
          eb.publish(Addresses.status(jobId), endedWith = r.terminal());
        }
        finish();
        return;
      }
      publish.forEach(this::publish);
      if (closing != null) {
        eb.publish(Addresses.status(jobId), endedWith = r.terminal() != null ? r.terminal() : closing);
        finish();
        return;
      }
      maybeResume();
      pump();
    });
  }

  private void stopGeneration() {
    if (current != null) {
      current.cancel();
      current = null;
    }
  }

  /**
   * The store could not take a write within the outage budget: store job:failed checkpoint_failed if it can (the
   * store stamps the true last sequence and keeps the first terminal) and publish only what it stored. If the store
   * cannot take that either, nothing is published: the lease runs out and readers close the job once the store is
   * back, so no client ever sees a terminal the store does not hold.
   */
  private void failOnStoreError(TokenbusException cause) {
    StatusEvent failed = new StatusEvent(JobState.FAILED, jobId, 0, null,
      new JobError(JobError.CHECKPOINT_FAILED, cause.getMessage()));
    terminal = failed;
    checkpoint.append(new AppendRequest(jobId, List.of(), failed)).onComplete(ar -> {
      if (ar.succeeded() && ar.result().terminal() != null) {
        eb.publish(Addresses.status(jobId), endedWith = ar.result().terminal());
      }
      finish();
    });
  }

  private void maybeResume() {
    if (!paused) {
      return;
    }
    if (outbox.size() <= config.maxBufferedChunks() / 2 && !budget.exhausted(request.priority())) {
      paused = false;
      budget.forget(resumeWhenRoom);
      if (current != null) {
        current.resume();
      }
    } else {
      budget.whenRoom(request.priority(), resumeWhenRoom);
    }
  }

  /**
   * Retries a write the store could not take (retryable codes: Redis unreachable, timeouts, no checkpoint node) with
   * backoff up to 1 s, until the outage budget since the first failure is spent. Meanwhile the outbox fills and the
   * model is paused; the writes are idempotent, so a retry of a write that did land is harmless.
   */
  private Future<AppendResult> append(AppendRequest req, long firstAttemptNanos, long backoffMs) {
    return checkpoint.append(req, request.priority()).recover(e -> {
      TokenbusException te = TokenbusException.from(e);
      long spentMs = (System.nanoTime() - firstAttemptNanos) / 1_000_000;
      if (!te.code().retryable || spentMs + backoffMs > config.storeOutageMs()) {
        return Future.failedFuture(te);
      }
      metrics.storeRetry(te.code());
      Promise<AppendResult> p = Promise.promise();
      vertx.setTimer(backoffMs, id -> append(req, firstAttemptNanos, Math.min(1000, backoffMs * 2)).onComplete(p));
      return p.future();
    });
  }

  private void publish(Object event) {
    if (event instanceof ChunkEvent c) {
      eb.publish(Addresses.chunk(jobId), c);
    } else if (event instanceof ProgressEvent p) {
      eb.publish(Addresses.progress(jobId), p);
    }
  }

  private void finish() {
    if (!done) {
      done = true;
      metrics.ended(endedWith != null ? endedWith : terminal);
      budget.forget(resumeWhenRoom);
      budget.give(request.priority(), outbox.stream().filter(e -> e instanceof ChunkEvent).count());
      if (flushTimer >= 0) {
        vertx.cancelTimer(flushTimer);
      }
      outbox.clear();
      onDone.accept(this);
    }
  }

  /** For tests: true once nothing more will be sent. */
  public boolean isDone() {
    return done;
  }

}
