package io.tokenbus.events;

import java.util.regex.Pattern;

/**
 * Every event-bus address tokenbus uses. Public addresses (reachable from browsers through the bridge) are part of the
 * v1 contract; internal ones are only used between services and are never permitted on the bridge.
 */
public final class Addresses {
  private Addresses() {}

  /** Inbound request/reply: submit a job; body as {@code POST /api/jobs}, reply as its 202 body. */
  public static final String JOBS_SUBMIT = "jobs.submit";
  /** Inbound request/reply: {@code {jobId, token, afterSequence}} -> {@code {chunks, lastSequence, state}}. */
  public static final String JOB_REPLAY = "job.replay";
  /** Inbound request/reply: {@code {jobId, token}} -> {@code {ok: true}}. */
  public static final String JOB_CANCEL = "job.cancel";

  public static final String CHUNK_SUFFIX = "chunk";
  public static final String PROGRESS_SUFFIX = "progress";
  public static final String STATUS_SUFFIX = "status";

  /** Outbound addresses a browser may register for: {@code job.<jobId>.(chunk|progress|status)}. */
  public static final Pattern JOB_OUTBOUND = Pattern.compile("job\\.([A-Za-z0-9_-]{16,64})\\.(chunk|progress|status)");

  /** Internal: load-balanced job dispatch to agent workers (point-to-point send). */
  public static final String WORKER_RUN = "tokenbus.worker.run";
  /** Internal: cancel broadcast to all workers; the one running the job stops it. */
  public static final String WORKER_CANCEL = "tokenbus.worker.cancel";
  /**
   * Internal: load-balanced (point-to-point) request that a worker take over a job whose worker stopped renewing its
   * lease: body and reply {@link io.tokenbus.events.internal.Takeover}.
   */
  public static final String WORKER_TAKEOVER = "tokenbus.worker.takeover";
  /**
   * Internal: every gateway publishes the jobs its clients follow, each second
   * ({@link io.tokenbus.events.internal.WatchedJobs}); workers treat running jobs nobody follows as background.
   */
  public static final String JOBS_WATCHED = "tokenbus.jobs.watched";
  /**
   * Internal: a gateway whose live interactive chunks arrive late publishes it, at most every 100 ms while they do
   * ({@link io.tokenbus.events.internal.InteractiveLate}); workers slow background generation on it.
   */
  public static final String GATEWAY_PRESSURE = "tokenbus.gateway.pressure";
  /** Internal: checkpoint-store request/reply operations. */
  public static final String CHECKPOINT_OPEN = "tokenbus.checkpoint.open";
  public static final String CHECKPOINT_APPEND = "tokenbus.checkpoint.append";
  public static final String CHECKPOINT_REPLAY = "tokenbus.checkpoint.replay";
  /** Internal: the appends of many jobs in one message (a worker coalesces those issued in one event-loop turn). */
  public static final String CHECKPOINT_APPEND_BATCH = "tokenbus.checkpoint.append-batch";
  /** Internal: a worker renews the leases of the jobs it runs; an expired lease means the worker is gone. */
  public static final String CHECKPOINT_LEASE = "tokenbus.checkpoint.lease";
  /** Internal: a worker claims a job whose lease ran out (a new owner epoch), to continue it. */
  public static final String CHECKPOINT_CLAIM = "tokenbus.checkpoint.claim";

  public static String chunk(String jobId) {
    return "job." + jobId + "." + CHUNK_SUFFIX;
  }

  public static String progress(String jobId) {
    return "job." + jobId + "." + PROGRESS_SUFFIX;
  }

  public static String status(String jobId) {
    return "job." + jobId + "." + STATUS_SUFFIX;
  }
}
