package io.tokenbus.testing;

import java.util.function.BooleanSupplier;

/**
 * How long a test waits for what the system owes it (an event, an answer, a close, a gauge reaching its value): longer
 * than every deadline the servers keep, so a stalled CI machine can make a failing test slow but never a passing one
 * fail. Checks that something does not come, and bounds that are the behaviour under test, keep their own windows.
 */
public final class Patience {
  public static final long SECONDS = 30;
  public static final long MILLIS = SECONDS * 1000;

  private Patience() {}

  /** Polls {@code done} until it holds or {@link #SECONDS} pass; for what sends no event (a gauge, a probe, a port). */
  public static boolean until(BooleanSupplier done) {
    long deadline = System.nanoTime() + MILLIS * 1_000_000;
    while (!done.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        return false;
      }
      Thread.onSpinWait();
    }
    return true;
  }
}
