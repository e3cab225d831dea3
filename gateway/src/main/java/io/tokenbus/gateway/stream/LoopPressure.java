package io.tokenbus.gateway.stream;

import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.SingleThreadEventExecutor;
import io.vertx.core.Vertx;
import io.vertx.core.internal.ContextInternal;
import java.util.function.IntConsumer;
import java.util.function.IntSupplier;

/**
 * Watches the task queue of the event loop it is created on, the one queue on the path that nothing else bounds:
 * every event-bus message for a followed job and every write completion lands there (and background events deferred
 * behind them, {@code alsoQueued}). Reports level {@link #BACKGROUND} once more than {@code max} tasks wait,
 * {@link #ALL} beyond twice that, and each level's end once the queue is below a quarter of its bound, so the state
 * does not flap. A loop that does not expose its queue (not Netty's single-thread executor) is never reported
 * overloaded. Event-loop confined.
 */
final class LoopPressure {
  static final int BACKGROUND = 1;
  static final int ALL = 2;
  private final Vertx vertx;
  private final long max;
  private final IntConsumer onChange;
  private final IntSupplier alsoQueued;
  private final SingleThreadEventExecutor loop;
  private final long timer;
  private long queued;
  private int level;

  LoopPressure(Vertx vertx, long periodMs, long max, IntSupplier alsoQueued, IntConsumer onChange) {
    this.vertx = vertx;
    this.max = max;
    this.onChange = onChange;
    this.alsoQueued = alsoQueued;
    EventExecutor e = ((ContextInternal) vertx.getOrCreateContext()).nettyEventLoop();
    this.loop = e instanceof SingleThreadEventExecutor s ? s : null;
    this.timer = vertx.setPeriodic(periodMs, id -> check());
  }

  private void check() {
    if (loop == null) {
      return;
    }
    queued = loop.pendingTasks() + (long) alsoQueued.getAsInt();
    int next = level;
    if (queued > 2 * max) {
      next = ALL;
    } else if (queued > max) {
      next = Math.max(level, BACKGROUND);
    } else if (level == ALL && queued < max / 2) {
      next = BACKGROUND;
    }
    if (next == BACKGROUND && queued < max / 4) {
      next = 0;
    }
    if (next != level) {
      level = next;
      onChange.accept(next);
    }
  }

  /** False where the loop does not expose its queue: then nothing is ever shed. */
  boolean watching() {
    return loop != null;
  }

  long queued() {
    return queued;
  }

  void close() {
    vertx.cancelTimer(timer);
  }
}
