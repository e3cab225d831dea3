package io.tokenbus.gateway.jobs;

import io.tokenbus.events.Addresses;
import io.tokenbus.events.ErrorCode;
import io.tokenbus.events.JobError;
import io.tokenbus.events.JobIds;
import io.tokenbus.events.JobRequest;
import io.tokenbus.events.JobState;
import io.tokenbus.events.Priority;
import io.tokenbus.events.StatusEvent;
import io.tokenbus.events.TokenbusException;
import io.tokenbus.events.internal.AppendRequest;
import io.tokenbus.events.internal.AppendResult;
import io.tokenbus.events.internal.JobAssignment;
import io.tokenbus.events.internal.JobSnapshot;
import io.tokenbus.events.internal.ReplayRequest;
import io.tokenbus.events.internal.Takeover;
import io.tokenbus.gateway.GatewayConfig;
import io.tokenbus.gateway.auth.StreamTokens;
import io.tokenbus.runtime.Registrations;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.EventBus;
import io.vertx.core.json.JsonObject;
import java.security.SecureRandom;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The gateway's operations on jobs, shared by the HTTP API, the bridge and SSE: submit, read, cancel. Talks to the
 * checkpoint store and the workers over the event bus; every failure is a {@link TokenbusException}.
 */
public final class JobService {
  private static final DeliveryOptions RUN_TIMEOUT = new DeliveryOptions().setSendTimeout(5000);
  /** A takeover claims the job and reads its stored chunks before it answers. */
  private static final long TAKEOVER_TIMEOUT_MS = 5_000;
  /** How long a read of an orphaned job waits for its takeover before it answers what the store has. */
  static final long READ_WAITS_FOR_TAKEOVER_MS = 3_000;

  private final Vertx vertx;
  private final EventBus eb;
  private final GatewayConfig config;
  private final StreamTokens tokens;
  private final SecureRandom random = new SecureRandom();
  /** Takeover requests in flight, by job (bounded by the jobs this gateway's clients follow). */
  private final Map<String, Future<Void>> takeovers = new HashMap<>();
  /**
   * Background jobs submitted here or read as such from the store, newest last, at most {@code maxStreams}: their
   * streams yield under overload.
   */
  private final java.util.Set<String> background;

  public JobService(Vertx vertx, GatewayConfig config, StreamTokens tokens) {
    this.vertx = vertx;
    this.eb = vertx.eventBus();
    this.config = config;
    this.tokens = tokens;
    int cap = config.maxStreams();
    this.background = java.util.Collections.newSetFromMap(new java.util.LinkedHashMap<>() {
      @Override
      protected boolean removeEldestEntry(java.util.Map.Entry<String, Boolean> eldest) {
        return size() > cap;
      }
    });
  }

  /**
   * A background job: submitted through this node as one, or read as one from the store (its stream's first read).
   * Until then a job counts as interactive here: the default that never slows a stream somebody waits for.
   */
  public boolean background(String jobId) {
    return background.contains(jobId);
  }

  /** Counts {@code jobId} as background on this node (its submission went through here, or the store said so). */
  public void rememberBackground(String jobId) {
    background.add(jobId);
  }

  public StreamTokens tokens() {
    return tokens;
  }

  /** Creates the job in the store, hands it to a worker and answers the 202 body. */
  public Future<JsonObject> submit(JobRequest request) {
    String jobId = JobIds.newId(random);
    JobAssignment a = new JobAssignment(jobId, request, System.currentTimeMillis());
    return Registrations.whenRegistered(vertx, () -> eb.request(Addresses.CHECKPOINT_OPEN, a), 200)
      .compose(v -> Registrations.whenRegistered(vertx, () -> eb.<JsonObject>request(Addresses.WORKER_RUN, a, RUN_TIMEOUT), 200)
        .recover(e -> {
          // No worker took it: close the job so it never looks queued forever, with the reason it was refused.
          TokenbusException te = TokenbusException.from(e);
          String code = switch (te.code()) {
            case NO_WORKER, TIMEOUT -> JobError.WORKER_LOST;
            case INVALID_REQUEST -> JobError.UNKNOWN_BACKEND;
            default -> te.code().id;
          };
          close(jobId, JobState.FAILED, new JobError(code, te.getMessage()));
          return Future.failedFuture(te);
        }))
      .onSuccess(m -> {
        if (request.priority() == Priority.BACKGROUND) {
          rememberBackground(jobId);
        }
      })
      .map(m -> new JsonObject().put("jobId", jobId).put("streamToken", tokens.issue(jobId))
        .put("state", JobState.QUEUED.wire()).put("type", request.type().wire())
        .put("backend", m.body().getString("backend")).put("model", m.body().getString("model")))
      .recover(e -> Future.failedFuture(TokenbusException.from(e)));
  }

  /**
   * A snapshot with the chunks after {@code after} (one page). A job whose worker stopped renewing its lease is handed
   * to another worker, which continues it where the store says it stopped; if none can within
   * {@code workerWaitMs}, it is closed here as {@code worker_lost} (first terminal wins, so a late worker cannot reopen
   * it). The read waits for that at most {@link #READ_WAITS_FOR_TAKEOVER_MS}, then reads again (a job still waiting
   * for a worker reads as running; the takeover goes on).
   */
  public Future<JobSnapshot> read(String jobId, long after, int limit) {
    return readStore(jobId, after, limit).compose(s -> !s.orphaned() ? Future.succeededFuture(s)
      : awaitTakeover(jobId).compose(v -> readStore(jobId, after, limit)));
  }

  private Future<Void> awaitTakeover(String jobId) {
    Future<Void> t = takeover(jobId);
    if (t.isComplete()) {
      return t;
    }
    Promise<Void> p = Promise.promise();
    long timer = vertx.setTimer(READ_WAITS_FOR_TAKEOVER_MS, id -> p.tryComplete());
    t.onComplete(ar -> {
      vertx.cancelTimer(timer);
      p.tryComplete();
    });
    return p.future();
  }

  /**
   * Load-balanced, so a request may reach the dead worker itself until the cluster removes it (a refused connection
   * or a timeout), or find no worker registered (a lone worker restarting, workers merging back into the cluster
   * after an eviction): it is sent again for up to {@code workerWaitMs}. Not when the job was taken over too often
   * ({@code conflict}).
   */
  private Future<Void> requestTakeover(String jobId) {
    return Registrations.retryWhile(vertx, () -> eb.<Takeover.Result>request(Addresses.WORKER_TAKEOVER, new Takeover(jobId),
        new DeliveryOptions().setSendTimeout(TAKEOVER_TIMEOUT_MS)), code -> code != ErrorCode.CONFLICT, 100, config.workerWaitMs())
      .mapEmpty();
  }

  /** One takeover request per job at a time from this gateway, however many of its clients found the job orphaned. */
  private Future<Void> takeover(String jobId) {
    Future<Void> pending = takeovers.get(jobId);
    if (pending != null) {
      return pending;
    }
    Future<Void> f = requestTakeover(jobId)
      .recover(e -> close(jobId, JobState.FAILED, new JobError(JobError.WORKER_LOST,
        "the worker running this job stopped and no other worker could continue it (" + e.getMessage() + ")")))
      .onComplete(ar -> takeovers.remove(jobId));
    if (!f.isComplete()) {
      takeovers.put(jobId, f);
    }
    return f;
  }

  private Future<JobSnapshot> readStore(String jobId, long after, int limit) {
    return eb.<JobSnapshot>request(Addresses.CHECKPOINT_REPLAY, new ReplayRequest(jobId, after, limit == ReplayRequest.STATE_ONLY ? limit : Math.min(limit, config.replayPageSize())))
      .map(m -> m.body())
      .recover(e -> Future.failedFuture(TokenbusException.from(e)));
  }

  /** Verifies the token, then reads. Unknown jobs fail with 404 only after the token checked out. */
  public Future<JobSnapshot> authorizedRead(String jobId, String token, long after, int limit) {
    try {
      if (!JobIds.valid(jobId)) {
        throw new TokenbusException(ErrorCode.NOT_FOUND, "no job " + jobId);
      }
      tokens.verify(jobId, token);
    } catch (TokenbusException e) {
      return Future.failedFuture(e);
    }
    return read(jobId, after, limit);
  }

  /**
   * Asks the worker running the job to stop. If the job is still not closed after the grace period (worker gone or
   * stuck), the gateway closes it itself; the store keeps whichever terminal event came first.
   */
  public Future<JobSnapshot> cancel(String jobId, String token) {
    return authorizedRead(jobId, token, 0, ReplayRequest.STATE_ONLY).onSuccess(s -> {
      if (s.state().terminal()) {
        return;
      }
      eb.publish(Addresses.WORKER_CANCEL, new JsonObject().put("jobId", jobId));
      vertx.setTimer(config.cancelGraceMs(), id -> read(jobId, 0, ReplayRequest.STATE_ONLY).onSuccess(now -> {
        if (!now.state().terminal()) {
          close(jobId, JobState.CANCELLED, null);
        }
      }));
    });
  }

  private Future<Void> close(String jobId, JobState state, JobError error) {
    StatusEvent t = new StatusEvent(state, jobId, 0, null, error);
    return eb.<AppendResult>request(Addresses.CHECKPOINT_APPEND, new AppendRequest(jobId, List.of(), t))
      .map(m -> m.body())
      .onSuccess(r -> {
        if (r.accepted() && r.terminal() != null) {
          eb.publish(Addresses.status(jobId), r.terminal());
        }
      })
      .mapEmpty();
  }
}
