package io.tokenbus.worker.run;

import io.tokenbus.events.Addresses;
import io.tokenbus.events.ChunkEvent;
import io.tokenbus.events.JobError;
import io.tokenbus.events.JobState;
import io.tokenbus.events.Priority;
import io.tokenbus.events.ProgressEvent;
import io.tokenbus.events.StatusEvent;
import io.tokenbus.events.TokenbusException;
import io.tokenbus.events.internal.AppendRequest;
import io.tokenbus.events.internal.AppendResult;
import io.tokenbus.worker.WorkerConfig;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.EventBus;
import io.vertx.core.internal.logging.Logger;
import io.vertx.core.internal.logging.LoggerFactory;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

/**
 * Where one job's events go: an outbox waiting for the checkpoint store, one write in flight at a time (what is
 * produced meanwhile leaves with the next write, so a slow store gets bigger batches), writes retried through a store
 * outage, and publication of what the store took, never of what it did not. Ends with the terminal the store holds.
 * Runs on the owning verticle's context only.
 */
final class JobLog {
  private static final Logger log = LoggerFactory.getLogger(JobLog.class);

  /** What the log tells its job. */
  interface Listener {
    /** {@code chunks} left the outbox: stored and published, or given up. */
    void stored(int chunks);

    /** The store takes nothing more from this job here: stop producing. */
    void refused();

    /** Over; {@code published} is the terminal event published, null when none was (taken over, handed over). */
    void ended(StatusEvent published);
  }

  private final Vertx vertx;
  private final EventBus eb;
  private final WorkerConfig config;
  private final String jobId;
  private Priority priority;
  private final CheckpointWriter checkpoint;
  private final Listener listener;
  private final ArrayDeque<Object> outbox = new ArrayDeque<>();
  private WorkerMetrics.Job metrics = WorkerMetrics.Job.NONE;
  /** The owner epoch this worker holds for the job: 1 unless it took the job over (fencing, see append.lua). */
  private long epoch = 1;
  private boolean appendInFlight;
  /** The terminal to store once the outbox is empty. */
  private StatusEvent terminal;
  private boolean handingOver;
  private boolean ended;

  JobLog(Vertx vertx, WorkerConfig config, String jobId, Priority priority, CheckpointWriter checkpoint, Listener listener) {
    this.priority = priority;
    this.vertx = vertx;
    this.eb = vertx.eventBus();
    this.config = config;
    this.jobId = jobId;
    this.checkpoint = checkpoint;
    this.listener = listener;
  }

  void metrics(WorkerMetrics.Job m) {
    this.metrics = m;
  }

  long epoch() {
    return epoch;
  }

  void epoch(long e) {
    this.epoch = e;
  }

  /** The order its writes go to the store in from now on (interactive first). */
  void priority(Priority p) {
    this.priority = p;
  }

  /** Events waiting to be stored. */
  int size() {
    return outbox.size();
  }

  /** A terminal is on its way, the job is being handed over, or it is over: nothing more may be added. */
  boolean closing() {
    return terminal != null || handingOver || ended;
  }

  /** The terminal this job meant to end with, if any (what was published may differ: the store's first wins). */
  StatusEvent terminal() {
    return terminal;
  }

  void add(Object event) {
    outbox.add(event);
    pump();
  }

  /** Stores {@code t} after everything queued, then publishes the terminal the store holds. */
  void close(StatusEvent t) {
    if (!closing()) {
      terminal = t;
      pump();
    }
  }

  /** Stores everything queued and ends without a terminal: another worker continues the job. */
  void handOver() {
    if (!closing()) {
      handingOver = true;
      pump();
    }
  }

  /** Another worker owns the job: nothing more is written or published. */
  void abandon() {
    end(null);
  }

  /** Drops what was not stored (the job is over); answers how many chunks that was. */
  int discard() {
    int chunks = (int) outbox.stream().filter(e -> e instanceof ChunkEvent).count();
    outbox.clear();
    return chunks;
  }

  /** Sends the next checkpoint write if none is in flight; publishes its events once it is stored. */
  private void pump() {
    if (appendInFlight || ended) {
      return;
    }
    if (outbox.isEmpty()) {
      if (handingOver) {
        end(null);
      } else if (terminal != null) {
        write(List.of(), List.of(), terminal);
      }
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
    write(chunks, publish, closing);
  }

  private void write(List<ChunkEvent> chunks, List<Object> publish, StatusEvent closing) {
    appendInFlight = true;
    append(new AppendRequest(jobId, chunks, closing, epoch), System.nanoTime(), 50).onComplete(ar -> {
      appendInFlight = false;
      listener.stored(chunks.size());
      if (ar.failed()) {
        // Never publish what is not stored: clients would see chunks no replay can give back. End the job instead.
        listener.refused();
        failOnStoreError(TokenbusException.from(ar.cause()));
        return;
      }
      AppendResult r = ar.result();
      if (!r.accepted()) {
        // Closed by the store: a cancel fallback, a lost lease, or lost history (Redis restarted empty, a failover
        // to a lagging replica); publish the store's one terminal, followers ignore a second copy. Or fenced: another
        // worker took the job over (no terminal), nothing to publish.
        listener.refused();
        if (r.terminal() == null) {
          log.warn("job " + jobId + " was taken over by another worker (the store refused epoch " + epoch + "): stopping it");
        }
        end(r.terminal());
        return;
      }
      metrics.stored(chunks, priority);
      publish.forEach(this::publish);
      if (closing != null) {
        end(r.terminal() != null ? r.terminal() : closing);
        return;
      }
      pump();
    });
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
    checkpoint.append(new AppendRequest(jobId, List.of(), failed, epoch), priority)
      .onComplete(ar -> end(ar.succeeded() ? ar.result().terminal() : null));
  }

  /**
   * Retries a write the store could not take (retryable codes: Redis unreachable, timeouts, no checkpoint node) with
   * backoff up to 1 s, until the outage budget since the first failure is spent. Meanwhile the outbox fills and the
   * model is paused; the writes are idempotent, so a retry of a write that did land is harmless.
   */
  private Future<AppendResult> append(AppendRequest req, long firstAttemptNanos, long backoffMs) {
    return checkpoint.append(req, priority).recover(e -> {
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

  /** Publishes {@code t} (the store's terminal, if any) once. */
  private void end(StatusEvent t) {
    if (ended) {
      return;
    }
    ended = true;
    if (t != null) {
      eb.publish(Addresses.status(jobId), t);
    }
    listener.ended(t);
  }
}
