package io.tokenbus.worker.run;

import io.tokenbus.events.Priority;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Chunks waiting for the checkpoint store across all jobs of one worker. Each job also has its own bound; this one
 * keeps the sum bounded however many jobs run. Over the limit, jobs pause their model; below half, they resume.
 *
 * <p>Background jobs get a smaller share that adapts to how late checkpoint writes come back and how late the worker's
 * event loop runs its tasks: while the smoothed write round trip stays above the target, or the loop lags more than a
 * fifth of it, their share is cut; below half of both the share grows again (up to half the budget). The write target
 * is {@code targetMicros} or twice the fastest round trip of the last seconds, whichever is larger: on a slow or busy
 * machine an unloaded round trip may itself exceed the configured target. The loop's lag is the queueing every chunk
 * of the node waits through (a saturated CPU shows there first, while batched writes still come back fast). Cut,
 * background models pause first, down to one chunk in flight, so under overload the work that is left is interactive
 * and interactive chunks keep their latency; background streams slow down instead. A third signal comes from
 * downstream: a gateway whose live interactive chunks arrive later than half the target ({@link #downstreamLate}) cuts
 * the share as well while its reports go on; the backlog is then between worker and gateway, where the first two do not
 * show it. Gateways report whatever lateness they see, so this one target sets the whole trade.
 * Event-loop confined.
 */
public final class OutboxBudget {
  /** The background share never falls below this many chunks, so background jobs always make progress. */
  static final long MIN_BACKGROUND = 1;
  /** How often the background share is adjusted (ns): a few write round trips, not every one. */
  static final long ADJUST_NANOS = 50_000_000L;
  /** The fastest round trip is taken over two windows of this length (ns): the base that queueing adds to. */
  static final long BASE_WINDOW_NANOS = 5_000_000_000L;
  /** A gateway's report of late interactive chunks counts this long (ns): gateways report every 100 ms while late. */
  static final long DOWNSTREAM_HOLD_NANOS = 300_000_000L;

  private final long max;
  private final long targetMicros;
  private final Set<Runnable> waiting = new LinkedHashSet<>();
  private final Set<Runnable> waitingBackground = new LinkedHashSet<>();
  private long used;
  private long backgroundUsed;
  private long backgroundLimit;
  private double smoothedMicros;
  private double smoothedLagMicros;
  private long lastAdjust = System.nanoTime();
  private long baseWindowStart = lastAdjust;
  private long fastest = Long.MAX_VALUE;
  private long fastestBefore = Long.MAX_VALUE;
  private long downstreamLateUntil;

  public OutboxBudget(long max) {
    this(max, 0);
  }

  /** @param targetMicros write round trip above which background jobs are slowed (0: never) */
  public OutboxBudget(long max, long targetMicros) {
    this.max = max;
    this.targetMicros = targetMicros;
    this.backgroundLimit = Math.max(1, max / 2);
  }

  void take(Priority p, long n) {
    used += n;
    if (p == Priority.BACKGROUND) {
      backgroundUsed += n;
    }
  }

  void give(Priority p, long n) {
    used -= n;
    if (p == Priority.BACKGROUND) {
      backgroundUsed -= n;
    }
    wake();
  }

  boolean exhausted(Priority p) {
    return used >= max || (p == Priority.BACKGROUND && (used >= max / 2 || backgroundUsed >= backgroundLimit));
  }

  /** Runs {@code resume} once the budget of {@code p} is back below half. */
  void whenRoom(Priority p, Runnable resume) {
    (p == Priority.BACKGROUND ? waitingBackground : waiting).add(resume);
  }

  void forget(Runnable resume) {
    waiting.remove(resume);
    waitingBackground.remove(resume);
  }

  /**
   * One checkpoint write came back after {@code micros}. Background share: multiplicative decrease while writes are
   * late, additive increase while they are fast (the delay-based control TCP Vegas uses), so it settles where the
   * store and the event loop keep up with interactive work plus what background work fits.
   */
  public void writeTook(long micros) {
    writeTook(micros, System.nanoTime());
  }

  /** @param now {@link System#nanoTime()} (given by tests) */
  void writeTook(long micros, long now) {
    if (targetMicros <= 0) {
      return;
    }
    smoothedMicros = smoothedMicros == 0 ? micros : smoothedMicros * 0.8 + micros * 0.2;
    if (now - baseWindowStart > BASE_WINDOW_NANOS) {
      baseWindowStart = now;
      fastestBefore = fastest;
      fastest = Long.MAX_VALUE;
    }
    fastest = Math.min(fastest, micros);
    adjust(now);
  }

  /** The worker's event loop ran a task {@code micros} later than it was due (see {@link LoopLag}). */
  public void loopLagTook(long micros) {
    loopLagTook(micros, System.nanoTime());
  }

  /** @param now {@link System#nanoTime()} (given by tests) */
  void loopLagTook(long micros, long now) {
    if (targetMicros <= 0) {
      return;
    }
    smoothedLagMicros = smoothedLagMicros * 0.8 + micros * 0.2;
    adjust(now);
  }

  /**
   * A gateway reports that its live interactive chunks arrive {@code lateMs} (their recent mean) later than their best.
   * It counts above half the target: at a fifth (the loop-lag bound) the gateways' jitter on a busy 2-core host cut
   * background to half at a load the host serves (docs/benchmarks.md, "Interactive lateness bound").
   */
  public void downstreamLate(long lateMs) {
    downstreamLate(lateMs, System.nanoTime());
  }

  /** @param now {@link System#nanoTime()} (given by tests) */
  void downstreamLate(long lateMs, long now) {
    if (targetMicros <= 0 || lateMs * 1000.0 <= targetMicros / 2.0) {
      return;
    }
    downstreamLateUntil = now + DOWNSTREAM_HOLD_NANOS;
    adjust(now);
  }

  private void adjust(long now) {
    if (now - lastAdjust < ADJUST_NANOS) {
      return;
    }
    lastAdjust = now;
    double target = Math.max(targetMicros, 2.0 * Math.min(fastest, fastestBefore));
    double lagTarget = targetMicros / 5.0;
    long ceiling = Math.max(MIN_BACKGROUND, max / 2);
    boolean downstream = now - downstreamLateUntil < 0;
    if (smoothedMicros > target || smoothedLagMicros > lagTarget || downstream) {
      backgroundLimit = Math.max(MIN_BACKGROUND, backgroundLimit * 7 / 10);
    } else if (smoothedMicros < target / 2.0 && smoothedLagMicros < lagTarget / 2.0) {
      backgroundLimit = Math.min(ceiling, backgroundLimit + Math.max(MIN_BACKGROUND, backgroundLimit / 8));
      wake();
    }
  }

  private void wake() {
    if (used <= max / 2 && !waiting.isEmpty()) {
      List<Runnable> resume = new ArrayList<>(waiting);
      waiting.clear();
      resume.forEach(Runnable::run);
    }
    // Only as many background jobs as the share has room for, oldest first: resuming all of them at once would let
    // each put a chunk in flight, however small the share.
    long room = backgroundLimit - backgroundUsed;
    if (used <= max / 4 && room > 0 && !waitingBackground.isEmpty()) {
      List<Runnable> resume = new ArrayList<>((int) Math.min(room, waitingBackground.size()));
      Iterator<Runnable> it = waitingBackground.iterator();
      while (it.hasNext() && resume.size() < room) {
        resume.add(it.next());
        it.remove();
      }
      resume.forEach(Runnable::run);
    }
  }

  public long used() {
    return used;
  }

  /** Chunks background jobs hold now. */
  long backgroundUsed() {
    return backgroundUsed;
  }

  /** Chunks background jobs may hold now (the adaptive share). */
  public long backgroundLimit() {
    return backgroundLimit;
  }
}
