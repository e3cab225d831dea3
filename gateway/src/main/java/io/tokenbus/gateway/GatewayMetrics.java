package io.tokenbus.gateway;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.tokenbus.events.ChunkEvent;
import io.tokenbus.events.ErrorCode;
import io.tokenbus.events.Priority;
import io.tokenbus.events.TokenbusException;
import io.tokenbus.events.internal.JobSnapshot;
import io.tokenbus.gateway.stream.FeedEvent;
import io.vertx.core.Future;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * The gateway's stream metrics (see docs/operations.md). Labels are bounded: {@code transport} is sse|bridge|http,
 * {@code priority} interactive|background, {@code code} an {@link ErrorCode} id, {@code reason}/{@code kind}/
 * {@code source} fixed words; never a job id.
 * Event-loop confined like the streams it counts.
 */
public final class GatewayMetrics {
  public static final String SSE = "sse";
  public static final String BRIDGE = "bridge";
  public static final String HTTP = "http";
  /** SLO buckets around the 1–100 ms the system is built for. */
  private static final Duration[] LATENCY_BUCKETS = millis(1, 2, 3, 5, 7.5, 10, 15, 20, 30, 50, 75, 100, 150, 250, 500,
    1000, 2500);
  private static final Duration[] REPLAY_BUCKETS = millis(1, 2, 5, 10, 20, 50, 100, 250, 500, 1000, 2500, 5000);

  private final MeterRegistry registry;
  private final Timer sseLatency;
  private final Timer bridgeLatency;
  private final Timer sseBackgroundLatency;
  private final Timer bridgeBackgroundLatency;
  private final Counter sseLive;
  private final Counter sseStore;
  private final Counter bridgeLive;
  private final Counter bridgeStore;
  private final Counter duplicates;
  private final Counter overloadEpisodes;

  public GatewayMetrics(MeterRegistry registry) {
    this.registry = registry;
    sseLatency = latency(SSE, Priority.INTERACTIVE);
    bridgeLatency = latency(BRIDGE, Priority.INTERACTIVE);
    sseBackgroundLatency = latency(SSE, Priority.BACKGROUND);
    bridgeBackgroundLatency = latency(BRIDGE, Priority.BACKGROUND);
    sseLive = delivered(SSE, "live");
    sseStore = delivered(SSE, "store");
    bridgeLive = delivered(BRIDGE, "live");
    bridgeStore = delivered(BRIDGE, "store");
    duplicates = Counter.builder("tokenbus_gateway_duplicates_suppressed")
      .description("chunks a follower already had, not written again").register(registry);
    for (String t : new String[] {SSE, BRIDGE}) {
      replays(t);
      replayedChunks(t);
      replayTimer(t);
      slowConsumers(t, "write_budget");
    }
    gapRepairs("gap");
    gapRepairs("idle_poll");
    overloadEpisodes = Counter.builder("tokenbus_gateway_overload_episodes")
      .description("times the event-loop queue went over TOKENBUS_GATEWAY_MAX_QUEUED_TASKS (background streams read from the store)")
      .register(registry);
  }

  /** Records nothing anywhere that matters: for hubs built without a registry (unit tests). */
  public static GatewayMetrics none() {
    return new GatewayMetrics(new SimpleMeterRegistry());
  }

  public MeterRegistry registry() {
    return registry;
  }

  /**
   * A chunk was just written to a client. A live one (brought by the bus) records the latency from its {@code timestamp}
   * (formed by the worker) to now; one read from the store (replay, catch-up, repair) only counts.
   */
  public void chunkWritten(String transport, FeedEvent e) {
    boolean sse = SSE.equals(transport);
    if (e.live()) {
      long ms = System.currentTimeMillis() - ((ChunkEvent) e.event()).timestamp();
      Timer t = e.background() ? (sse ? sseBackgroundLatency : bridgeBackgroundLatency) : (sse ? sseLatency : bridgeLatency);
      t.record(Math.max(0, ms), TimeUnit.MILLISECONDS);
      (sse ? sseLive : bridgeLive).increment();
    } else {
      (sse ? sseStore : bridgeStore).increment();
    }
  }

  /** Times a replay request until its answer; counts it and the chunks it answered. Returns {@code answer}. */
  public Future<JobSnapshot> replay(String transport, Future<JobSnapshot> answer) {
    long start = System.nanoTime();
    replays(transport).increment();
    return answer.onSuccess(s -> {
      replayTimer(transport).record(System.nanoTime() - start, TimeUnit.NANOSECONDS);
      replayedChunks(transport).increment(s.chunks().size());
    });
  }

  /** The bus lost or has not brought chunks a follower needs: they are read back from the store. */
  public void gapRepair(String kind) {
    gapRepairs(kind).increment();
  }

  /** The event loop's queue went over its bound (background streams detach) or back under it. */
  public void shedding(boolean on) {
    if (on) {
      overloadEpisodes.increment();
    }
  }

  public void duplicateSuppressed() {
    duplicates.increment();
  }

  /** A client that did not read fast enough was disconnected ({@code reason}: write_budget|stall|pending). */
  public void slowConsumer(String transport, String reason) {
    slowConsumers(transport, reason).increment();
  }

  /** A bridge registration was refused ({@code forbidden}, {@code unauthorized}, {@code too_many_jobs}, ...). */
  public void registrationRefused(ErrorCode code) {
    Counter.builder("tokenbus_gateway_registrations_refused").description("bridge registrations refused, by code")
      .tag("code", code.id).register(registry).increment();
  }

  /** Counts {@code e} if it is a 429 (rate_limited, too_many_jobs) answered to a client. */
  public void answered(String transport, TokenbusException e) {
    answered(transport, e.code());
  }

  public void answered(String transport, ErrorCode code) {
    if (code.status == 429) {
      Counter.builder("tokenbus_gateway_too_many_requests").description("requests and connections refused with 429, by code")
        .tags("transport", transport, "code", code.id).register(registry).increment();
    }
  }

  private Timer latency(String transport, Priority priority) {
    return Timer.builder("tokenbus_gateway_chunk_latency")
      .description("from the worker forming a chunk (its timestamp) to the gateway writing it to a client, live chunks only")
      .tags("transport", transport, "priority", priority.wire()).serviceLevelObjectives(LATENCY_BUCKETS)
      .register(registry);
  }

  private Counter delivered(String transport, String source) {
    return Counter.builder("tokenbus_gateway_chunks_written").description("chunks written to clients, live or read from the store")
      .tags("transport", transport, "source", source).register(registry);
  }

  private Counter replays(String transport) {
    return Counter.builder("tokenbus_gateway_replays").description("replay requests on followed streams")
      .tag("transport", transport).register(registry);
  }

  private Counter replayedChunks(String transport) {
    return Counter.builder("tokenbus_gateway_replayed_chunks").description("chunks answered by replay requests")
      .tag("transport", transport).register(registry);
  }

  private Timer replayTimer(String transport) {
    return Timer.builder("tokenbus_gateway_replay").description("from a replay request to its answer")
      .tag("transport", transport).serviceLevelObjectives(REPLAY_BUCKETS).register(registry);
  }

  private Counter gapRepairs(String kind) {
    return Counter.builder("tokenbus_gateway_gap_repairs").description("store reads that fill what the bus did not bring")
      .tag("kind", kind).register(registry);
  }

  private Counter slowConsumers(String transport, String reason) {
    return Counter.builder("tokenbus_gateway_slow_consumer_disconnects").description("clients dropped for not reading")
      .tags("transport", transport, "reason", reason).register(registry);
  }

  private static Duration[] millis(double... ms) {
    Duration[] d = new Duration[ms.length];
    for (int i = 0; i < ms.length; i++) {
      d[i] = Duration.ofNanos((long) (ms[i] * 1e6));
    }
    return d;
  }
}
