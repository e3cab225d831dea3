package io.tokenbus.worker;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.tokenbus.events.Addresses;
import io.tokenbus.events.ErrorCode;
import io.tokenbus.events.JobIds;
import io.tokenbus.events.Priority;
import io.tokenbus.events.TokenbusException;
import io.tokenbus.events.codec.EventCodecs;
import io.tokenbus.events.ChunkEvent;
import io.tokenbus.events.internal.JobAssignment;
import io.tokenbus.events.internal.JobClaim;
import io.tokenbus.events.internal.Takeover;
import io.tokenbus.events.internal.InteractiveLate;
import io.tokenbus.events.internal.WatchedJobs;
import io.tokenbus.events.internal.LeaseRenewal;
import io.tokenbus.worker.backend.BackendException;
import io.tokenbus.worker.backend.BackendFactory;
import io.tokenbus.worker.workflow.LocalDocsSearch;
import io.tokenbus.worker.backend.Backends;
import io.tokenbus.worker.backend.ModelBackend;
import io.tokenbus.worker.run.CheckpointWriter;
import io.tokenbus.worker.run.JobRun;
import io.tokenbus.worker.run.LeaseRenewals;
import io.tokenbus.worker.run.LoopLag;
import io.tokenbus.worker.run.OutboxBudget;
import io.tokenbus.worker.run.StoredChunks;
import io.tokenbus.worker.run.Watchers;
import io.tokenbus.worker.run.WorkerMetrics;
import io.tokenbus.worker.workflow.Workflows;
import io.tokenbus.events.JobError;
import io.tokenbus.runtime.Readiness;
import io.tokenbus.runtime.Registrations;
import io.vertx.core.Future;
import io.vertx.ext.healthchecks.Status;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.internal.logging.Logger;
import io.vertx.core.internal.logging.LoggerFactory;
import io.vertx.core.json.JsonObject;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * Owns the jobs running on this worker. Takes jobs from {@code tokenbus.worker.run} (point-to-point, so the event bus
 * spreads them across worker instances), runs each as a {@link JobRun}, and stops one on {@code tokenbus.worker.cancel}.
 */
public final class AgentWorkerVerticle extends VerticleBase implements Readiness {
  private static final Logger log = LoggerFactory.getLogger(AgentWorkerVerticle.class);

  private final WorkerConfig config;
  private final MeterRegistry registry;
  private final Function<io.vertx.core.Vertx, Future<Backends>> backendsFactory;
  private final Map<String, JobRun> running = new HashMap<>();
  private LocalDocsSearch search;
  private Workflows workflows;
  private Backends backends;
  private CheckpointWriter checkpoint;
  private OutboxBudget budget;
  private MessageConsumer<JobAssignment> runConsumer;
  private MessageConsumer<JsonObject> cancelConsumer;
  private MessageConsumer<Takeover> takeoverConsumer;
  private MessageConsumer<WatchedJobs> watchedConsumer;
  private MessageConsumer<InteractiveLate> pressureConsumer;
  private final Watchers watchers = new Watchers();
  private long leaseTimer = -1;
  private LoopLag loopLag;
  private LeaseRenewals leases;
  private Promise<Void> drainedWhenIdle;
  private Counter accepted;
  private Counter refused;
  private Counter takenOver;
  private WorkerMetrics metrics;
  private volatile Phase phase = Phase.STARTING;

  /** Where this worker is in its life (read by the management listener's readiness check). */
  private enum Phase { STARTING, TAKING_JOBS, DRAINING }

  /** Backends as configured ({@link BackendFactory}). */
  public AgentWorkerVerticle(WorkerConfig config, MeterRegistry registry) {
    this(config, registry, v -> BackendFactory.create(v, config));
  }

  /** @param backendsFactory builds the model backends on this verticle's context */
  public AgentWorkerVerticle(WorkerConfig config, MeterRegistry registry, Function<io.vertx.core.Vertx, Future<Backends>> backendsFactory) {
    this.config = config;
    this.registry = registry;
    this.backendsFactory = backendsFactory;
  }

  @Override
  public Future<?> start() {
    EventCodecs.register(vertx.eventBus());
    search = new LocalDocsSearch(vertx, config.docsDir(), config.docsSearchBudgetMs());
    workflows = new Workflows(search);
    budget = new OutboxBudget(config.maxBufferedChunksPerWorker(), config.backgroundTargetMs() * 1000);
    checkpoint = new CheckpointWriter(context, vertx.eventBus(), 10_000, budget::writeTook);
    if (config.backgroundTargetMs() > 0) {
      loopLag = LoopLag.start(vertx, budget::loopLagTook);
    }
    Gauge.builder("tokenbus_worker_background_chunk_limit", budget, OutboxBudget::backgroundLimit).register(registry);
    Gauge.builder("tokenbus_worker_buffered_chunks", budget, OutboxBudget::used).register(registry);
    accepted = Counter.builder("tokenbus_worker_jobs_accepted").register(registry);
    takenOver = Counter.builder("tokenbus_worker_jobs_taken_over")
      .description("jobs this worker continued after their worker died").register(registry);
    refused = Counter.builder("tokenbus_worker_jobs_refused").register(registry);
    metrics = new WorkerMetrics(registry);
    Gauge.builder("tokenbus_worker_jobs_running", running, Map::size).register(registry);
    Gauge.builder("tokenbus_worker_jobs_unwatched", running, AgentWorkerVerticle::unwatched)
      .description("interactive jobs running as background because no gateway lists a client following them").register(registry);
    return backendsFactory.apply(vertx).compose(b -> {
      backends = b;
      runConsumer = vertx.eventBus().consumer(Addresses.WORKER_RUN, this::run);
      cancelConsumer = vertx.eventBus().consumer(Addresses.WORKER_CANCEL, this::cancel);
      takeoverConsumer = vertx.eventBus().consumer(Addresses.WORKER_TAKEOVER, this::takeover);
      watchedConsumer = vertx.eventBus().consumer(Addresses.JOBS_WATCHED, m -> {
        watchers.update(m.body(), System.nanoTime());
        judgeWatched();
      });
      pressureConsumer = vertx.eventBus().consumer(Addresses.GATEWAY_PRESSURE, m -> budget.downstreamLate(m.body().lateMs()));
      // Tells the store this worker still runs its jobs; if it dies, their leases run out and readers close them.
      leases = new LeaseRenewals(config.leaseMs(), running::keySet, id -> running.get(id).epoch(),
        r -> vertx.eventBus().<LeaseRenewal.Result>request(Addresses.CHECKPOINT_LEASE, r,
          new DeliveryOptions().setSendTimeout(LeaseRenewals.periodMs(config.leaseMs()))).map(Message::body),
        this::lost);
      leaseTimer = vertx.setPeriodic(leases.tickMs(), id -> {
        judgeWatched(); // also when no gateway publishes any more (their lists ran out)
        leases.tick();
      });
      return Future.all(List.of(runConsumer.completion(), cancelConsumer.completion(), takeoverConsumer.completion(),
        watchedConsumer.completion(), pressureConsumer.completion()));
    })
      .onSuccess(v -> {
        phase = Phase.TAKING_JOBS;
        log.info("agent worker ready " + config.toJson().encode());
      });
  }

  /**
   * A deploy is not a cancel: take no new job, let running jobs finish while leases keep being renewed, and past the
   * drain deadline hand what is left over: its chunks stored, its lease released, another worker continues it. The
   * run consumer stays until the end of the drain and refuses with {@code no_worker} (which the gateway retries
   * elsewhere): gateways may route to it for a while after it would have unregistered, and such a request would
   * otherwise wait for its timeout.
   */
  @Override
  public Future<?> stop() {
    phase = Phase.DRAINING; // not ready from the first moment of the drain
    Promise<Void> drained = Promise.promise();
    drainedWhenIdle = drained;
    if (running.isEmpty()) {
      drained.tryComplete();
    } else {
      log.info("draining: " + running.size() + " running jobs get up to " + config.drainMs() / 1000 + " s to finish");
    }
    long deadline = vertx.setTimer(Math.max(1, config.drainMs()), id -> drained.tryComplete());
    return drained.future()
      .compose(v -> {
        vertx.cancelTimer(deadline);
        if (running.isEmpty()) {
          return Future.succeededFuture();
        }
        log.warn("drain deadline passed: handing " + running.size() + " running jobs over to other workers");
        List<JobRun> runs = List.copyOf(running.values());
        List<String> ids = runs.stream().map(JobRun::jobId).toList();
        List<Long> epochs = runs.stream().map(JobRun::epoch).toList();
        Promise<Void> released = Promise.promise();
        Future.all(runs.stream().map(JobRun::handOver).toList())
          // A lease of 1 ms has run out at once: the next reader has another worker continue each job.
          .compose(all -> vertx.eventBus().request(Addresses.CHECKPOINT_LEASE, new LeaseRenewal(ids, epochs, 1)))
          .onComplete(ar -> released.tryComplete());
        vertx.setTimer(5000, id -> released.tryComplete()); // the store may be gone too: do not wait for ever
        return released.future();
      })
      .eventually(() -> {
        vertx.cancelTimer(leaseTimer);
        if (loopLag != null) {
          loopLag.stop();
        }
        return Future.all(List.of(runConsumer.unregister(), cancelConsumer.unregister(), takeoverConsumer.unregister(),
          watchedConsumer.unregister(), pressureConsumer.unregister()));
      })
      .eventually(() -> backends.close());
  }

  private void jobDone(JobRun r) {
    running.remove(r.jobId());
    if (running.isEmpty() && drainedWhenIdle != null) {
      drainedWhenIdle.tryComplete();
    }
  }

  private void run(Message<JobAssignment> m) {
    JobAssignment a = m.body();
    if (refusedWhileDraining(m)) {
      return;
    }
    int limit = a.request().priority() == Priority.BACKGROUND ? Math.max(1, config.maxConcurrentJobs() / 2) : config.maxConcurrentJobs();
    if (running.size() >= limit) {
      refused.increment();
      m.reply(new TokenbusException(ErrorCode.TOO_MANY_JOBS,
        "worker is running " + running.size() + " jobs (limit " + limit + " for " + a.request().priority().wire() + ")").toReply());
      return;
    }
    ModelBackend backend;
    try {
      backend = backends.choose(a.request().backend());
    } catch (BackendException e) {
      m.reply(TokenbusException.invalid(e.getMessage()).toReply());
      return;
    }
    JobRun run = newRun(a, backend);
    accepted.increment();
    m.reply(new JsonObject().put("accepted", true).put("backend", backend.name()).put("model", run.model()));
    run.start(workflows.forType(a.request().type()));
  }

  /** A draining worker takes nothing new: {@code no_worker}, which the gateway retries on another worker. */
  private boolean refusedWhileDraining(Message<?> m) {
    if (phase != Phase.DRAINING) {
      return false;
    }
    m.reply(new TokenbusException(ErrorCode.NO_WORKER, "this worker is shutting down").toReply());
    return true;
  }

  private JobRun newRun(JobAssignment a, ModelBackend backend) {
    String model = a.request().model() != null ? a.request().model() : backend.defaultModel();
    JobRun run = new JobRun(vertx, config, a, backend, model, checkpoint, budget, this::jobDone);
    run.metrics(metrics.job(backend.name(), model, a.createdAt()));
    running.put(a.jobId(), run);
    return run;
  }

  /**
   * Continues a job whose worker died: claims it in the store (a new owner epoch fences the old worker, and of several
   * claimers one wins), reads what it stored and runs its workflow again from there. Taken even above the
   * concurrency limit: the job was admitted once and its load only moves. A backend missing here or unable to
   * continue a partial answer ends the job as worker_lost (written as the owner, so the end is the store's).
   */
  private void takeover(Message<Takeover> m) {
    String jobId = m.body().jobId();
    if (refusedWhileDraining(m)) {
      return;
    }
    if (running.containsKey(jobId)) {
      m.reply(new Takeover.Result(Takeover.Result.HELD));
      return;
    }
    // A worker that just joined may not see the store's registrations yet (found live: a fresh worker answered every
    // takeover of a job with "no handlers" until the gateway closed it worker_lost).
    Registrations.whenRegistered(vertx, () -> vertx.eventBus().<JobClaim.Result>request(Addresses.CHECKPOINT_CLAIM,
        new JobClaim(jobId, config.leaseMs(), config.maxTakeovers())), 100)
      .compose(r -> {
        JobClaim.Result claim = r.body();
        return switch (claim.outcome()) {
          case HELD -> Future.succeededFuture(Takeover.Result.HELD);
          case CLOSED -> Future.succeededFuture(Takeover.Result.CLOSED);
          case EXHAUSTED -> Future.failedFuture(new TokenbusException(ErrorCode.CONFLICT,
            "job " + jobId + " was taken over " + (claim.epoch() - 1) + " times already"));
          case CLAIMED -> Registrations.whenRegistered(vertx, () -> StoredChunks.read(vertx.eventBus(), jobId,
              claim.lastSequence()), 100)
            .map(chunks -> {
              continueRun(claim, chunks);
              return Takeover.Result.CONTINUED;
            });
        };
      })
      .onSuccess(outcome -> m.reply(new Takeover.Result(outcome)))
      .onFailure(e -> {
        log.warn("could not take over job " + jobId + ": " + e.getMessage());
        m.reply(TokenbusException.from(e).toReply());
      });
  }

  private void continueRun(JobClaim.Result claim, List<ChunkEvent> chunks) {
    JobAssignment a = claim.assignment();
    ModelBackend backend;
    JobError cannot = null;
    try {
      backend = backends.choose(a.request().backend());
    } catch (BackendException e) {
      backend = backends.choose(null);
      cannot = new JobError(JobError.WORKER_LOST, "the worker running this job stopped; " + e.getMessage());
    }
    JobRun run = newRun(a, backend).continueFrom(claim.epoch(), chunks);
    takenOver.increment();
    log.info("took over job " + a.jobId() + " at epoch " + claim.epoch() + " after chunk " + claim.lastSequence());
    if (cannot != null) {
      run.fail(cannot);
    } else {
      run.start(workflows.forType(a.request().type()));
    }
  }

  /** Each running job runs at its own priority while somebody follows it, as background while nobody does. */
  private void judgeWatched() {
    long now = System.nanoTime();
    running.values().forEach(r -> r.followed(watchers.followed(r, now)));
  }

  private static double unwatched(Map<String, JobRun> running) {
    return running.values().stream().filter(r -> r.priority() != r.requestedPriority()).count();
  }

  private void lost(String jobId, long epoch) {
    JobRun r = running.get(jobId);
    if (r != null && r.epoch() == epoch) {
      log.warn("job " + jobId + " was taken over by another worker (this one missed its lease): stopping it");
      r.abandon();
    }
  }

  private void cancel(Message<JsonObject> m) {
    String jobId = m.body().getString("jobId");
    JobRun run = JobIds.valid(jobId) ? running.get(jobId) : null;
    if (run != null) {
      run.cancel();
    }
  }

  @Override
  public String readinessName() {
    return "worker";
  }

  /** Ready while it takes jobs: started, and not draining (SIGTERM undeploys it, which starts the drain). */
  @Override
  public void readiness(Promise<Status> status) {
    Phase now = phase;
    status.complete(now == Phase.TAKING_JOBS ? Status.OK()
      : Status.KO(new JsonObject().put("reason", now.name().toLowerCase(java.util.Locale.ROOT))));
  }

  /** For tests and health: jobs running now. */
  public int runningJobs() {
    return running.size();
  }
}
