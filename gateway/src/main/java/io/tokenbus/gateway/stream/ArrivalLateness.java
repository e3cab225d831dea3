package io.tokenbus.gateway.stream;

import java.util.function.LongConsumer;

/**
 * How late live interactive chunks reach this gateway: a backlog upstream of it (the event bus between worker and
 * gateway processes, or a worker) shows here and nowhere else. Each chunk's lateness is its age on arrival above the
 * youngest arrival of its job so far ({@link JobFeed}), which cancels any offset between the worker's clock and this
 * node's. While the smoothed lateness exceeds {@link #REPORT_ABOVE_MS}, {@code report} runs with it every
 * {@link #REPORT_NANOS}, and at once whenever it has risen above the last report: each worker judges it against its
 * own bound (half of {@code TOKENBUS_BACKGROUND_TARGET_MS}, 5 ms by default) and slows background generation above
 * it, so a report below the bound must not hold back the next one over it. Event-loop confined.
 */
final class ArrivalLateness {
  /**
   * Smoothed lateness of interactive chunks above which the workers are told: the resolution of chunk timestamps. The
   * bound itself is the workers' (it was 20 ms here, which left interactive p99 at 30-53 ms under twice saturation with
   * the gateway in its own process; docs/benchmarks.md "Interactive lateness bound").
   */
  static final long REPORT_ABOVE_MS = 1;
  static final long REPORT_NANOS = 100_000_000L;

  private final LongConsumer report;
  private double smoothed;
  private long lastReport;
  /** 0 before the first report, which is therefore a rise and goes at once. */
  private long lastReported;

  /** @param report called with the smoothed lateness in ms, rounded up */
  ArrivalLateness(LongConsumer report) {
    this.report = report;
  }

  /** A live interactive chunk arrived {@code lateMs} later than its job's best; {@code nowNanos}: {@link System#nanoTime()}. */
  void arrived(long lateMs, long nowNanos) {
    smoothed = smoothed * 0.9 + Math.max(0, lateMs) * 0.1;
    if (smoothed <= REPORT_ABOVE_MS) {
      return;
    }
    long lateness = (long) Math.ceil(smoothed); // up: 5.3 ms is over a 5 ms bound
    if (lateness > lastReported || nowNanos - lastReport >= REPORT_NANOS) {
      lastReport = nowNanos;
      lastReported = lateness;
      report.accept(lateness);
    }
  }

  long smoothedMs() {
    return Math.round(smoothed);
  }
}
