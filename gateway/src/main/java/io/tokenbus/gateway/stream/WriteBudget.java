package io.tokenbus.gateway.stream;

import io.vertx.core.Future;

/**
 * Bytes written to one client that its socket has not taken yet. Above a quarter of the limit replayed history waits
 * ({@link #writable()}); above the limit the client is not reading and is dropped (it resumes by replay). Counted from
 * the write futures, so it holds for every transport, including SockJS sessions whose own write queue never fills.
 * Event-loop confined.
 */
public final class WriteBudget {
  private final long limit;
  private long queued;
  private Runnable waiter;

  public WriteBudget(long limitBytes) {
    this.limit = limitBytes;
  }

  /** True when the client holds more than the limit: drop it rather than buffer without bound. */
  public boolean exceeded() {
    return queued > limit;
  }

  public void track(int bytes, Future<?> written) {
    queued += bytes;
    written.onComplete(ar -> release(bytes));
  }

  public boolean writable() {
    return queued < limit / 4;
  }

  public void whenWritable(Runnable r) {
    if (writable()) {
      r.run();
    } else {
      waiter = r;
    }
  }

  private void release(int bytes) {
    queued -= bytes;
    if (waiter != null && queued <= limit / 8) {
      Runnable w = waiter;
      waiter = null;
      w.run();
    }
  }
}
