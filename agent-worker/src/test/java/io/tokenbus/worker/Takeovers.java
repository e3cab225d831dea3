package io.tokenbus.worker;

import io.tokenbus.events.Addresses;
import io.tokenbus.events.internal.Takeover;
import io.vertx.core.eventbus.EventBus;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/** Asks for a takeover as a gateway that found the job orphaned would, once the job's lease has run out. */
final class Takeovers {
  private Takeovers() {}

  /** The takeover's outcome; {@code held} only if the lease still held after 10 s. */
  static String whenLeaseRanOut(EventBus eb, String jobId, Duration lease) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (true) {
      String outcome = eb.<Takeover.Result>request(Addresses.WORKER_TAKEOVER, new Takeover(jobId)).await().body().outcome();
      if (!Takeover.Result.HELD.equals(outcome) || System.nanoTime() > deadline) {
        return outcome;
      }
      Thread.sleep(lease.toMillis() / 3); // the lease runs out on Redis' clock: nothing to await but time
    }
  }
}
