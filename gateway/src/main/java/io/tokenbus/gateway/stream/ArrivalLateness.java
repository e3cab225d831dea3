package io.tokenbus.gateway.stream;

import java.util.function.LongConsumer;

/**
 * How late live interactive chunks reach this gateway: a backlog upstream of it (the event bus between worker and
 * gateway processes, or a worker) shows here and nowhere else. Each chunk's lateness is its age on arrival above the
 * youngest arrival of its job so far ({@link JobFeed}), which cancels any offset between the worker's clock and this
 * node's. While the smoothed lateness exceeds {@link #LATE_MS}, {@code report} runs, at most every
 * {@link #REPORT_NANOS}: the workers then slow background generation. Event-loop confined.
 */
final class ArrivalLateness {
  /** Smoothed lateness of interactive chunks above which the workers are told. */
  static final long LATE_MS = 20;
  static final long REPORT_NANOS = 100_000_000L;

  private final LongConsumer report;
  private double smoothed;
  private long lastReport = Long.MIN_VALUE;

  /** @param report called with the smoothed lateness in ms */
  ArrivalLateness(LongConsumer report) {
    this.report = report;
  }

  /** A live interactive chunk arrived {@code lateMs} later than its job's best; {@code nowNanos}: {@link System#nanoTime()}. */
  void arrived(long lateMs, long nowNanos) {
    smoothed = smoothed * 0.9 + Math.max(0, lateMs) * 0.1;
    if (smoothed > LATE_MS && (lastReport == Long.MIN_VALUE || nowNanos - lastReport >= REPORT_NANOS)) {
      lastReport = nowNanos;
      report.accept(Math.round(smoothed));
    }
  }

  long smoothedMs() {
    return Math.round(smoothed);
  }
}
