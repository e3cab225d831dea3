package io.tokenbus.checkpoint;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.tokenbus.events.Addresses;
import io.tokenbus.events.ErrorCode;
import io.tokenbus.events.TokenbusException;
import io.tokenbus.events.codec.EventCodecs;
import io.tokenbus.events.internal.AppendRequest;
import io.tokenbus.events.internal.AppendResult;
import io.tokenbus.events.internal.JobAssignment;
import io.tokenbus.events.internal.JobSnapshot;
import io.tokenbus.events.internal.JobClaim;
import io.tokenbus.events.internal.LeaseRenewal;
import io.tokenbus.events.internal.ReplayRequest;
import io.tokenbus.runtime.Readiness;
import io.vertx.core.Future;
import io.vertx.ext.healthchecks.Status;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonObject;
import io.vertx.core.internal.logging.Logger;
import io.vertx.core.internal.logging.LoggerFactory;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * Owns the Redis chunk log. Answers {@code tokenbus.checkpoint.open|append|replay}.
 *
 * <p>Layout per job (see docs/protocol.md, "Checkpoint store"): a hash {@code tb:job:{id}:meta} with state, last
 * sequence, creation data and the terminal event, and a stream {@code tb:job:{id}:log} whose entry ids are
 * {@code <sequence>-0}. Stream ids make "after N" an O(log n) range read and keep entries ordered; the scripts make
 * every write atomic and idempotent. Both keys expire after the retention, counted from the last write.
 *
 * <p>Continuity: sequences are dense, so the scripts can prove a range complete; a read that cannot (keys evicted,
 * Redis restarted empty, a failover lost writes) fails with {@code history_lost}, and an append that finds the job
 * gone or a gap closes the job as failed with {@code history_lost}. Leases are counted on Redis' clock ({@code TIME}),
 * and a job is only judged orphaned once this verticle has reached Redis without trouble for a whole lease period,
 * so a store outage (during which workers could not renew) never reads as a dead worker.
 */
public final class CheckpointVerticle extends VerticleBase implements Readiness {
  private static final Logger log = LoggerFactory.getLogger(CheckpointVerticle.class);
  /** An hour: a longer lease would keep a dead worker's job open that long. */
  private static final long MAX_LEASE_MS = 3_600_000;
  /** Written by the readiness check to learn whether Redis takes writes again. */
  private static final String PROBE_KEY = "tb:probe:writable";

  private final CheckpointConfig config;
  private final MeterRegistry registry;
  private final List<MessageConsumer<?>> consumers = new ArrayList<>();
  private RedisPipeline pipeline;
  private ScriptCalls scripts;
  private JobReads reads;
  private JobAppends appends;
  private StoreMetrics metrics;
  private volatile RedisSettings.Verdict settings;
  /** Consumers registered (set once start completes; read by the management listener). */
  private volatile boolean serving;

  public CheckpointVerticle(CheckpointConfig config, MeterRegistry registry) {
    this.config = config;
    this.registry = registry;
  }

  @Override
  public Future<?> start() {
    EventCodecs.register(vertx.eventBus());
    pipeline = new RedisPipeline(vertx, context, config,
      DistributionSummary.builder("tokenbus_checkpoint_batch_commands").description("Redis commands per pipelined round trip")
        .register(registry));
    boolean cluster = config.redisMode() == CheckpointConfig.RedisMode.CLUSTER;
    scripts = new ScriptCalls(pipeline, cluster);
    FinishedPages finished = new FinishedPages(config.replayCacheBytes());
    reads = new JobReads(scripts, pipeline, config, finished);
    metrics = new StoreMetrics(registry, pipeline);
    metrics.replayCache(finished);
    pipeline.metrics(metrics);
    appends = new JobAppends(scripts, config, metrics, Counter.builder("tokenbus_checkpoint_chunks_stored").register(registry));
    Gauge.builder("tokenbus_checkpoint_redis_connections_up", pipeline, RedisPipeline::connectionsUp)
      .description("dedicated Redis connections up").register(registry);
    return pipeline.start()
      .compose(v -> cluster ? Future.succeededFuture() : scripts.load()) // on a cluster: EVAL on NOSCRIPT, per node
      .compose(v -> RedisSettings.check(pipeline, config.redisMode()).onSuccess(s -> settings = s))
      .compose(v -> Future.all(
        consume(Addresses.CHECKPOINT_OPEN, this::open),
        consume(Addresses.CHECKPOINT_APPEND, appends::append),
        consume(Addresses.CHECKPOINT_APPEND_BATCH, appends::appendBatch),
        consume(Addresses.CHECKPOINT_REPLAY, this::replay),
        consume(Addresses.CHECKPOINT_LEASE, this::lease),
        consume(Addresses.CHECKPOINT_CLAIM, this::claim)))
      .onSuccess(v -> {
        serving = true;
        log.info("checkpoint store ready " + config.toJson().encode());
      })
      .onFailure(e -> pipeline.close());
  }

  @Override
  public Future<?> stop() {
    serving = false;
    return Future.all(consumers.stream().map(MessageConsumer::unregister).toList())
      .eventually(() -> pipeline == null ? Future.succeededFuture() : pipeline.close());
  }

  @Override
  public String readinessName() {
    return "redis";
  }

  /**
   * Ready while it serves the bus and Redis takes writes: a connection is up and, if the latest write failed (a
   * read-only replica after a failover, maxmemory reached, no quorum of replicas), a probe write succeeds now.
   */
  @Override
  public void readiness(Promise<Status> status) {
    if (!serving) {
      status.complete(Status.KO(new JsonObject().put("reason", "store not started")));
      return;
    }
    context.runOnContext(v -> {
      int up = pipeline.connectionsUp();
      if (up == 0) {
        status.complete(Status.KO(new JsonObject().put("reason", "no Redis connection up")));
      } else if (scripts.lastWriteFailure() == null) {
        status.complete(Status.OK(new JsonObject().put("connectionsUp", up)));
      } else {
        pipeline.write(Request.cmd(Command.SET).arg(PROBE_KEY).arg("1").arg("PX").arg("10000")).onComplete(ar ->
          status.complete(ar.succeeded() ? Status.OK(new JsonObject().put("connectionsUp", up))
            : Status.KO(new JsonObject().put("reason", "Redis refuses writes: " + ar.cause().getMessage()))));
      }
    });
  }

  /** For tests: runs {@code op} on this verticle's context (the store is not thread-safe) from any thread. */
  <T> Future<T> onContext(Supplier<Future<T>> op) {
    Promise<T> p = Promise.promise();
    context.runOnContext(v -> op.get().onComplete(p));
    return p.future();
  }

  /** For tests: completes once every Redis connection is up. */
  Future<Void> whenStoreUp() {
    return onContext(() -> pipeline.whenAllUp());
  }

  /** For tests: the durability settings found at start. */
  RedisSettings.Verdict redisSettings() {
    return settings;
  }

  /** For tests: how many times the scripts were loaded after the one at start (NOSCRIPT). */
  Future<Long> scriptReloads() {
    return onContext(() -> Future.succeededFuture(scripts.loads()));
  }

  private <T, R> Future<Void> consume(String address, Function<T, Future<R>> op) {
    MessageConsumer<T> c = vertx.eventBus().consumer(address, (Message<T> m) -> {
      Future<R> f;
      try {
        f = op.apply(m.body());
      } catch (TokenbusException e) {
        f = Future.failedFuture(e);
      }
      f.onComplete(ar -> {
        if (ar.succeeded()) {
          m.reply(ar.result());
        } else {
          TokenbusException e = TokenbusException.from(ar.cause());
          // store_unavailable is logged once per outage by the pipeline, not once per command
          if (e.code() == ErrorCode.INTERNAL) {
            log.warn("checkpoint " + address + " failed: " + e.getMessage());
          }
          m.reply(e.toReply());
        }
      });
    });
    consumers.add(c);
    return c.completion();
  }

  Future<Boolean> open(JobAssignment a) {
    JobKeys k = JobKeys.of(a.jobId());
    return scripts.write(Scripts.OPEN, List.of(k.meta()), List.of(String.valueOf(config.retention().toMillis()),
      String.valueOf(a.createdAt()), a.request().type().wire(), a.request().model() == null ? "" : a.request().model(),
      String.valueOf(config.initialLease().toMillis()), a.request().prompt(), a.toJson().encode(),
      a.request().priority().wire()))
      .map(r -> r.toInteger() == 1);
  }

  /** For tests: one append, as {@code tokenbus.checkpoint.append} makes it. */
  Future<AppendResult> append(AppendRequest req) {
    return appends.append(req);
  }

  Future<JobSnapshot> replay(ReplayRequest req) {
    return reads.replay(req);
  }

  /**
   * Extends the lease of every job a worker still runs (one pipelined script call per job), on the store's clock.
   * Answers the jobs another worker owns now: the caller stops them.
   */
  Future<LeaseRenewal.Result> lease(LeaseRenewal renewal) {
    if (renewal.leaseMs() <= 0 || renewal.leaseMs() > MAX_LEASE_MS) {
      return Future.failedFuture(TokenbusException.invalid("leaseMs must be 1.." + MAX_LEASE_MS));
    }
    List<Future<Response>> all = new ArrayList<>(renewal.jobIds().size());
    for (int i = 0; i < renewal.jobIds().size(); i++) {
      all.add(scripts.write(Scripts.LEASE, List.of(JobKeys.of(renewal.jobIds().get(i)).meta()),
        List.of(String.valueOf(renewal.leaseMs()), String.valueOf(renewal.epochs().get(i)))));
    }
    return Future.all(all).map(v -> {
      List<String> lost = new ArrayList<>();
      for (int i = 0; i < all.size(); i++) {
        if (all.get(i).result().toInteger() < 0) {
          lost.add(renewal.jobIds().get(i));
        }
      }
      return new LeaseRenewal.Result(lost);
    });
  }

  /** A worker takes over a job whose lease ran out while this store could see Redis (see claim.lua). */
  Future<JobClaim.Result> claim(JobClaim c) {
    if (c.leaseMs() <= 0 || c.leaseMs() > MAX_LEASE_MS || c.maxTakeovers() < 0) {
      return Future.failedFuture(TokenbusException.invalid("leaseMs must be 1.." + MAX_LEASE_MS + ", maxTakeovers >= 0"));
    }
    long healthyMs = TimeUnit.NANOSECONDS.toMillis(pipeline.healthyForNanos());
    return scripts.write(Scripts.CLAIM, List.of(JobKeys.of(c.jobId()).meta()),
        List.of(String.valueOf(c.leaseMs()), String.valueOf(c.maxTakeovers()), String.valueOf(healthyMs)))
      .map(r -> {
        JobClaim.Outcome outcome = JobClaim.Outcome.valueOf(r.get(0).toString());
        JobAssignment a = r.size() > 3 ? JobAssignment.fromJson(new JsonObject(r.get(3).toString())) : null;
        if (outcome == JobClaim.Outcome.CLAIMED) {
          metrics.takenOver();
          log.info("job " + c.jobId() + " taken over at epoch " + r.get(1) + " after chunk " + r.get(2));
        }
        return new JobClaim.Result(outcome, r.get(1).toLong(), r.get(2).toLong(), a);
      });
  }
}
