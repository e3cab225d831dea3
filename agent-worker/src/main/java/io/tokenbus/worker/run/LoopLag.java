package io.tokenbus.worker.run;

import io.vertx.core.Vertx;
import java.util.function.LongConsumer;

/**
 * How late the worker's event loop runs a task that is due every {@link #PERIOD_MS}: the queueing that every chunk
 * of the node waits through. A saturated CPU shows here before it shows in checkpoint round trips (writes are
 * batched, so they come back fast while everything else waits). Event-loop confined; stopped with its verticle.
 */
public final class LoopLag {
  static final long PERIOD_MS = 20;

  private final Vertx vertx;
  private final LongConsumer lagMicros;
  private long timer = -1;
  private boolean stopped;

  private LoopLag(Vertx vertx, LongConsumer lagMicros) {
    this.vertx = vertx;
    this.lagMicros = lagMicros;
  }

  /** Reports each lag in µs to {@code lagMicros} until {@link #stop}. */
  public static LoopLag start(Vertx vertx, LongConsumer lagMicros) {
    LoopLag l = new LoopLag(vertx, lagMicros);
    l.next();
    return l;
  }

  private void next() {
    long due = System.nanoTime() + PERIOD_MS * 1_000_000;
    timer = vertx.setTimer(PERIOD_MS, id -> {
      if (!stopped) {
        lagMicros.accept(Math.max(0, (System.nanoTime() - due) / 1000));
        next();
      }
    });
  }

  public void stop() {
    stopped = true;
    vertx.cancelTimer(timer);
  }
}
