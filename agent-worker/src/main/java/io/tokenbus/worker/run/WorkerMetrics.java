package io.tokenbus.worker.run;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.tokenbus.events.ChunkEvent;
import io.tokenbus.events.ErrorCode;
import io.tokenbus.events.Priority;
import io.tokenbus.events.StatusEvent;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * The worker's job metrics (see docs/operations.md). Labels are bounded: backend names are configured, model names are
 * client input and so are capped at {@link #MAX_MODELS} distinct values (later ones read {@code other}); never a job id.
 * Used from the worker verticle's context only.
 */
public final class WorkerMetrics {
  static final int MAX_MODELS = 32;
  private static final Duration[] TTFT_BUCKETS = seconds(0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60);
  private static final Duration[] JOB_BUCKETS = seconds(0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600);
  private static final double[] RATE_BUCKETS = {1, 5, 10, 20, 30, 50, 75, 100, 200, 500, 1000};

  /** Around the few milliseconds a chunk should take from the model to the store's acknowledgement. */
  private static final Duration[] STORE_LATENCY_BUCKETS = seconds(0.001, 0.002, 0.003, 0.005, 0.0075, 0.01, 0.015,
    0.02, 0.03, 0.05, 0.1, 0.25, 0.5, 1, 2.5);

  private final MeterRegistry registry;
  private final Set<String> models = new HashSet<>();
  private final Timer interactiveStoreLatency;
  private final Timer backgroundStoreLatency;

  public WorkerMetrics(MeterRegistry registry) {
    this.registry = registry;
    interactiveStoreLatency = storeLatency(Priority.INTERACTIVE);
    backgroundStoreLatency = storeLatency(Priority.BACKGROUND);
    Counter.builder("tokenbus_worker_store_retries").description("checkpoint writes retried during a store outage")
      .tag("code", ErrorCode.STORE_UNAVAILABLE.id).register(registry); // at 0 from the start
  }

  /** The metrics of one job accepted now. {@code createdAtMs}: when the gateway took it (epoch ms; 0 if unknown). */
  public Job job(String backend, String model, long createdAtMs) {
    return new Job(this, backend, boundedModel(model), createdAtMs);
  }

  // The worker's share of tokenbus_gateway_chunk_latency: what is left of it is the bus and the gateway.
  private Timer storeLatency(Priority p) {
    return Timer.builder("tokenbus_worker_chunk_store_latency")
      .description("from the worker forming a chunk (its timestamp) to the checkpoint store acknowledging it, when it is published")
      .tag("priority", p.wire()).serviceLevelObjectives(STORE_LATENCY_BUCKETS).register(registry);
  }

  private String boundedModel(String model) {
    if (model == null || model.isEmpty()) {
      return "none";
    }
    if (models.contains(model)) {
      return model;
    }
    if (models.size() < MAX_MODELS && model.length() <= 64) {
      models.add(model);
      return model;
    }
    return "other";
  }

  private static Duration[] seconds(double... s) {
    Duration[] d = new Duration[s.length];
    for (int i = 0; i < s.length; i++) {
      d[i] = Duration.ofNanos((long) (s[i] * 1e9));
    }
    return d;
  }

  /** One job's timings; {@link #NONE} records nothing. */
  public static final class Job {
    public static final Job NONE = new Job(null, null, null, 0);

    private final WorkerMetrics owner;
    private final String backend;
    private final String model;
    private final long acceptedAt = System.nanoTime();
    private final long createdAtMs;
    private long tokens;
    private long firstTokenAt;
    private long lastTokenAt;
    private boolean ended;

    private Job(WorkerMetrics owner, String backend, String model, long createdAtMs) {
      this.owner = owner;
      this.backend = backend;
      this.model = model;
      this.createdAtMs = createdAtMs;
    }

    /** A token came from the model; the first one records time to first token (from job creation, else acceptance). */
    public void token() {
      long now = System.nanoTime();
      if (tokens++ == 0) {
        firstTokenAt = now;
        if (owner != null) {
          long ms = createdAtMs > 0 ? System.currentTimeMillis() - createdAtMs : -1;
          Timer.builder("tokenbus_worker_time_to_first_token")
            .description("from job creation at the gateway to the first token out of the model")
            .tags("backend", backend, "model", model).serviceLevelObjectives(TTFT_BUCKETS).register(owner.registry)
            .record(ms >= 0 ? TimeUnit.MILLISECONDS.toNanos(ms) : now - acceptedAt, TimeUnit.NANOSECONDS);
        }
      }
      lastTokenAt = now;
    }

    /** The store acknowledged {@code chunks} of a job running as {@code priority}: they are published now. */
    public void stored(List<ChunkEvent> chunks, Priority priority) {
      if (owner == null || chunks.isEmpty()) {
        return;
      }
      Timer t = priority == Priority.BACKGROUND ? owner.backgroundStoreLatency : owner.interactiveStoreLatency;
      long now = System.currentTimeMillis();
      for (ChunkEvent c : chunks) {
        t.record(Math.max(0, now - c.timestamp()), TimeUnit.MILLISECONDS);
      }
    }

    /** A checkpoint write failed with a retryable {@code code} and is tried again (a store outage). */
    public void storeRetry(ErrorCode code) {
      if (owner != null) {
        Counter.builder("tokenbus_worker_store_retries").description("checkpoint writes retried during a store outage")
          .tag("code", code.id).register(owner.registry).increment();
      }
    }

    /** The job ended with {@code terminal} (null: with nothing the store took); records duration, rate and outcome. */
    public void ended(StatusEvent terminal) {
      if (owner == null || ended) {
        return;
      }
      ended = true;
      String type = terminal == null ? "unknown" : terminal.state().wire();
      String code = terminal == null ? "none" : terminal.error() == null ? "none" : boundedCode(terminal.error().code());
      Counter.builder("tokenbus_worker_jobs_ended").description("jobs ended on this worker, by terminal type and error code")
        .tags("type", type, "code", code).register(owner.registry).increment();
      Timer.builder("tokenbus_worker_job_duration").description("from acceptance by the worker to the job's end")
        .tags("backend", backend, "model", model, "type", type).serviceLevelObjectives(JOB_BUCKETS)
        .register(owner.registry).record(System.nanoTime() - acceptedAt, TimeUnit.NANOSECONDS);
      if (tokens >= 2 && lastTokenAt > firstTokenAt) {
        // k tokens span k-1 gaps: the rate a steady stream really has.
        DistributionSummary.builder("tokenbus_worker_job_tokens_per_second").description("tokens per second of each job")
          .tags("backend", backend, "model", model).serviceLevelObjectives(RATE_BUCKETS).register(owner.registry)
          .record((tokens - 1) / ((lastTokenAt - firstTokenAt) / 1e9));
      }
      DistributionSummary.builder("tokenbus_worker_job_tokens").description("tokens generated per job")
        .tags("backend", backend, "model", model).register(owner.registry).record(tokens);
    }

    private static String boundedCode(String code) {
      return code == null || code.length() > 40 || !code.matches("[a-z_]+") ? "other" : code;
    }
  }
}
