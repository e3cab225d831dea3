package io.tokenbus.gateway.stream;

import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.SingleThreadEventExecutor;
import io.vertx.core.Vertx;
import io.vertx.core.internal.ContextInternal;
import java.util.function.Consumer;

/**
 * Watches the task queue of the event loop it is created on, the one queue on the path that nothing else bounds:
 * every event-bus message for a followed job and every write completion lands there. Reports overload once more than
 * {@code max} tasks wait, and its end once the queue is below a quarter, so the state does not flap. A loop that does
 * not expose its queue (not Netty's single-thread executor) is never reported overloaded. Event-loop confined.
 */
final class LoopPressure {
  private final Vertx vertx;
  private final long max;
  private final Consumer<Boolean> onChange;
  private final SingleThreadEventExecutor loop;
  private final long timer;
  private long queued;
  private boolean over;

  LoopPressure(Vertx vertx, long periodMs, long max, Consumer<Boolean> onChange) {
    this.vertx = vertx;
    this.max = max;
    this.onChange = onChange;
    EventExecutor e = ((ContextInternal) vertx.getOrCreateContext()).nettyEventLoop();
    this.loop = e instanceof SingleThreadEventExecutor s ? s : null;
    this.timer = vertx.setPeriodic(periodMs, id -> check());
  }

  private void check() {
    if (loop == null) {
      return;
    }
    queued = loop.pendingTasks();
    if (!over && queued > max) {
      over = true;
      onChange.accept(true);
    } else if (over && queued < max / 4) {
      over = false;
      onChange.accept(false);
    }
  }

  long queued() {
    return queued;
  }

  void close() {
    vertx.cancelTimer(timer);
  }
}
