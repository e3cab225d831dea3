package io.tokenbus.gateway.stream;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.util.ArrayList;
import java.util.List;

/**
 * Bytes written to one client that its socket has not taken yet. Above a quarter of the limit replayed history waits
 * ({@link #writable()}); above the limit the client is not reading and is dropped (it resumes by replay). Counted from
 * the write futures, so it holds for every transport, including SockJS sessions whose own write queue never fills.
 * A client that takes nothing for {@code stallMs} while writers wait for it is dropped too: its followers would
 * otherwise only queue live events. Event-loop confined.
 */
public final class WriteBudget {
  private final long limit;
  private final Vertx vertx;
  private final long stallMs;
  private final Runnable onStall;
  private List<Runnable> waiters; // made when a writer first waits: most clients never fall behind
  private long queued;
  private long lastReleaseNanos = System.nanoTime();
  private long stallTimer = -1;

  public WriteBudget(long limitBytes, Vertx vertx, long stallMs, Runnable onStall) {
    this.limit = limitBytes;
    this.vertx = vertx;
    this.stallMs = stallMs;
    this.onStall = onStall;
  }

  /** True when the client holds more than the limit: drop it rather than buffer without bound. */
  public boolean exceeded() {
    return queued > limit;
  }

  public void track(int bytes, Future<?> written) {
    if (queued == 0) {
      lastReleaseNanos = System.nanoTime();
    }
    queued += bytes;
    written.onComplete(ar -> release(bytes));
  }

  public boolean writable() {
    return queued < limit / 4;
  }

  /** Runs {@code r} once the client has drained its queue (at once if it has); every waiter is woken. */
  public void whenWritable(Runnable r) {
    if (writable()) {
      r.run();
      return;
    }
    if (waiters == null) {
      waiters = new ArrayList<>(1);
    }
    waiters.add(r);
    armStallCheck(stallMs);
  }

  /** Stops the stall check (the transport is closed). */
  public void close() {
    waiters = null;
    if (stallTimer >= 0) {
      vertx.cancelTimer(stallTimer);
      stallTimer = -1;
    }
  }

  private void armStallCheck(long delayMs) {
    if (stallTimer < 0) {
      stallTimer = vertx.setTimer(Math.max(1, delayMs), id -> {
        stallTimer = -1;
        if (waiters == null || waiters.isEmpty()) {
          return;
        }
        long idleMs = (System.nanoTime() - lastReleaseNanos) / 1_000_000;
        if (idleMs >= stallMs) {
          close();
          onStall.run();
        } else {
          armStallCheck(stallMs - idleMs);
        }
      });
    }
  }

  private void release(int bytes) {
    queued -= bytes;
    lastReleaseNanos = System.nanoTime();
    if (waiters != null && !waiters.isEmpty() && queued <= limit / 8) {
      List<Runnable> wake = waiters;
      waiters = null;
      wake.forEach(Runnable::run);
    }
  }
}
