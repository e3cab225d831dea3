package io.tokenbus.checkpoint;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.tokenbus.events.StatusEvent;
import io.tokenbus.events.TokenbusException;
import io.vertx.core.Future;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/** The checkpoint store's metrics (see docs/operations.md); labels are bounded (op, kind, type, code). */
final class StoreMetrics {
  private static final Duration[] TRIP_BUCKETS = {Duration.ofNanos(250_000), Duration.ofNanos(500_000), Duration.ofMillis(1),
    Duration.ofMillis(2), Duration.ofMillis(5), Duration.ofMillis(10), Duration.ofMillis(25), Duration.ofMillis(50),
    Duration.ofMillis(100), Duration.ofMillis(250), Duration.ofMillis(1000)};

  private final MeterRegistry registry;
  private final Timer trips;

  StoreMetrics(MeterRegistry registry, RedisPipeline pipeline) {
    this.registry = registry;
    this.trips = Timer.builder("tokenbus_checkpoint_redis_round_trip").description("one pipelined Redis round trip, sent to answered")
      .serviceLevelObjectives(TRIP_BUCKETS).register(registry);
    Gauge.builder("tokenbus_checkpoint_queued_commands", pipeline, RedisPipeline::queuedWrites).tag("op", "write")
      .description("commands waiting for a Redis round trip").register(registry);
    Gauge.builder("tokenbus_checkpoint_queued_commands", pipeline, RedisPipeline::queuedReads).tag("op", "read")
      .description("commands waiting for a Redis round trip").register(registry);
    Gauge.builder("tokenbus_checkpoint_redis_trips_in_flight", pipeline, RedisPipeline::tripsInFlight)
      .description("pipelined round trips sent and not answered yet").register(registry);
    Gauge.builder("tokenbus_checkpoint_redis_up", pipeline, p -> p.connectionsUp() > 0 ? 1 : 0)
      .description("1 while at least one Redis connection is up").register(registry);
    for (String op : new String[] {"write", "read"}) { // the kinds an outage or overload shows, at 0 from the start
      failures(op, "store_unavailable");
      failures(op, "overloaded");
    }
    Counter.builder("tokenbus_checkpoint_redis_connection_losses").description("Redis connections lost").register(registry);
    takeovers = Counter.builder("tokenbus_checkpoint_takeovers").description("jobs claimed by a new worker after their lease ran out")
      .register(registry);
    fenced = Counter.builder("tokenbus_checkpoint_fenced_writes").description("writes refused: the writer's job was taken over")
      .register(registry);
  }

  private final Counter takeovers;
  private final Counter fenced;

  void replayCache(FinishedPages pages) {
    FunctionCounter.builder("tokenbus_checkpoint_replay_cache_reads", pages, FinishedPages::hits).tag("result", "hit")
      .description("long page reads of finished jobs, answered from memory (hit) or from Redis (miss)").register(registry);
    FunctionCounter.builder("tokenbus_checkpoint_replay_cache_reads", pages, FinishedPages::misses).tag("result", "miss")
      .description("long page reads of finished jobs, answered from memory (hit) or from Redis (miss)").register(registry);
    Gauge.builder("tokenbus_checkpoint_replay_cache_bytes", pages, FinishedPages::bytes).baseUnit("bytes")
      .description("memory held by pages of finished jobs (estimated)").register(registry);
  }

  void takenOver() {
    takeovers.increment();
  }

  void fenced() {
    fenced.increment();
  }

  void trip(long nanos) {
    trips.record(nanos, TimeUnit.NANOSECONDS);
  }

  void connectionLost() {
    Counter.builder("tokenbus_checkpoint_redis_connection_losses").description("Redis connections lost")
      .register(registry).increment();
  }

  /** Counts the failure of a Redis command ({@code op}: write|read) by its code. Returns {@code f}. */
  <T> Future<T> command(String op, Future<T> f) {
    if (f.isComplete()) {
      if (f.failed()) {
        failed(op, TokenbusException.from(f.cause()).code().id);
      }
      return f;
    }
    return f.onFailure(e -> failed(op, TokenbusException.from(e).code().id));
  }

  void failed(String op, String kind) {
    failures(op, kind).increment();
  }

  private Counter failures(String op, String kind) {
    return Counter.builder("tokenbus_checkpoint_failures").description("Redis commands that failed, by op and kind (error code)")
      .tags("op", op, "kind", kind).register(registry);
  }

  /** A terminal event was stored: the job is closed (whoever closed it: worker, cancel, lease expiry, history loss). */
  void closed(StatusEvent t) {
    Counter.builder("tokenbus_checkpoint_jobs_closed").description("terminal events stored, by type and error code")
      .tags("type", t.state().wire(), "code", t.error() == null ? "none" : bounded(t.error().code())).register(registry).increment();
  }

  private static String bounded(String code) {
    return code == null || code.length() > 40 || !code.matches("[a-z_]+") ? "other" : code;
  }
}
