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
import io.vertx.core.internal.logging.Logger;
import io.vertx.core.internal.logging.LoggerFactory;
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
  private static final Logger log = LoggerFactory.getLogger(JobRun.class);
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
  /** The owner epoch this worker holds for the job: 1 unless it took the job over (fencing, see append.lua). */
  private long epoch = 1;
  /** Set once the job is being handed over to another worker (a drain deadline); completes when all is stored. */
  private Promise<Void> handingOver;
  /** Set while a job taken over replays its stored part through the workflow; null once past it. */
  private StoredAnswer stored;

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

  /**
   * Makes this run continue a job another worker started and died on: it owns the job at {@code epoch} and the store
   * holds {@code chunks} (1..n, dense). Call before {@link #start}; the workflow then runs again from the start and
   * picks up where the chunks end (see {@link StoredAnswer}), so clients see a pause and nothing else.
   */
  public JobRun continueFrom(long epoch, List<ChunkEvent> chunks) {
    this.epoch = epoch;
    this.nextSequence = chunks.isEmpty() ? 1 : chunks.get(chunks.size() - 1).sequence() + 1;
    this.stored = new StoredAnswer(chunks);
    output.append(stored.all());
    if (output.length() > config.maxResultChars()) {
      output = null;
    }
    if (stored.used()) {
      stored = null;
    }
    return this;
  }

  public long epoch() {
    return epoch;
  }

  /**
   * Another worker owns this job now (its lease ran out while this worker was paused or cut off, and it was taken
   * over): stop at once and write or publish nothing more, the new owner carries on.
   */
  public void abandon() {
    if (terminal == null) {
      terminal = new StatusEvent(JobState.FAILED, jobId, nextSequence - 1, null,
        new JobError(JobError.WORKER_LOST, "taken over by another worker"));
    }
    stopGeneration();
    finish();
  }

  /**
   * The worker stops before the job ends (its drain deadline passed): stop the model, store what it produced, then
   * let go without a terminal. The caller releases the lease and another worker continues the job.
   */
  public Future<Void> handOver() {
    if (terminal != null || done) {
      return Future.succeededFuture();
    }
    stopGeneration();
    flushBatch();
    handingOver = Promise.promise();
    pump();
    return handingOver.future();
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
    String partial = "";
    if (stored != null && stored.used()) {
      stored = null;
    }
    if (stored != null) {
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
    if (stored != null) {
      text = stored.skip(step, text);
      if (stored.used()) {
        stored = null;
      }
    }
    token(step, text);
  }

  @Override
  public void progress(int percent, Step step) {
    if (terminal != null || handingOver != null || stored != null) { // clients saw the progress of the part a takeover replays
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
    if (terminal != null || handingOver != null || text.isEmpty()) {
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
    budget.take(1);
    if (!paused && current != null && (outbox.size() >= config.maxBufferedChunks() || budget.exhausted())) {
      paused = true;
      current.pause();
      budget.whenRoom(resumeWhenRoom);
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
    if (terminal != null || handingOver != null) {
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
    if (handingOver != null && !appendInFlight && outbox.isEmpty()) {
      finish();
      return;
    }
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
    append(new AppendRequest(jobId, chunks, closing, epoch), System.nanoTime(), 50).onComplete(ar -> {
      appendInFlight = false;
      budget.give(chunks.size());
      if (ar.failed()) {
        // Never publish what is not stored: clients would see chunks no replay can give back. End the job instead.
        stopGeneration();
        failOnStoreError(TokenbusException.from(ar.cause()));
        return;
      }
      AppendResult r = ar.result();
      if (!r.accepted()) {
        // Closed by the store: a cancel fallback, a lost lease, or lost history (Redis restarted empty, a failover
        // to a lagging replica); publish the store's one terminal, followers ignore a second copy. Or fenced: another
        // worker took the job over (no terminal), nothing to publish.
        stopGeneration();
        if (r.terminal() != null) {
          eb.publish(Addresses.status(jobId), endedWith = r.terminal());
        } else {
          log.warn("job " + jobId + " was taken over by another worker (the store refused epoch " + epoch + "): stopping it");
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
    checkpoint.append(new AppendRequest(jobId, List.of(), failed, epoch)).onComplete(ar -> {
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
    if (outbox.size() <= config.maxBufferedChunks() / 2 && !budget.exhausted()) {
      paused = false;
      budget.forget(resumeWhenRoom);
      if (current != null) {
        current.resume();
      }
    } else {
      budget.whenRoom(resumeWhenRoom);
    }
  }

  /**
   * Retries a write the store could not take (retryable codes: Redis unreachable, timeouts, no checkpoint node) with
   * backoff up to 1 s, until the outage budget since the first failure is spent. Meanwhile the outbox fills and the
   * model is paused; the writes are idempotent, so a retry of a write that did land is harmless.
   */
  private Future<AppendResult> append(AppendRequest req, long firstAttemptNanos, long backoffMs) {
    return checkpoint.append(req).recover(e -> {
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
      budget.give(outbox.stream().filter(e -> e instanceof ChunkEvent).count());
      if (flushTimer >= 0) {
        vertx.cancelTimer(flushTimer);
      }
      outbox.clear();
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
