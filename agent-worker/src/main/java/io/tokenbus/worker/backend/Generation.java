package io.tokenbus.worker.backend;

/** Handle of one running completion. */
public interface Generation {
  /** Stop delivering tokens until {@link #resume()} (backpressure); the backend stops reading upstream. */
  void pause();

  void resume();

  /** Abort: release timers and close the upstream connection. Idempotent; the sink hears nothing afterwards. */
  void cancel();
}
