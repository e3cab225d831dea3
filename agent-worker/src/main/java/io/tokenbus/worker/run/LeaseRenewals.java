package io.tokenbus.worker.run;

import io.tokenbus.events.internal.LeaseRenewal;
import io.vertx.core.Future;
import io.vertx.core.internal.logging.Logger;
import io.vertx.core.internal.logging.LoggerFactory;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Function;
import java.util.function.ObjLongConsumer;
import java.util.function.Supplier;
import java.util.function.ToLongFunction;

/**
 * Renews the leases of the jobs running on this worker: each job once per {@link #periodMs period} (a third of the
 * lease), but a slice at a time, by a hash of its id, one slice per {@link #tickMs tick}. Renewing every job at once
 * made a burst of thousands of lease scripts every period that held every stream's chunks back behind it (2,000 jobs:
 * p99 6 ms with spikes of 10-33 ms every 5 s against 3.5 ms without renewals; docs/benchmarks.md).
 *
 * <p>A slice that was not taken (the store failed or did not answer in a period) or could not be sent (the previous
 * request was unanswered) is owed: it goes with the next tick. So a store outage shorter than the lease never looks like
 * a dead worker, and at most one request is in flight. Not thread-safe: used from the worker verticle's context only.
 */
public final class LeaseRenewals {
  private static final Logger log = LoggerFactory.getLogger(LeaseRenewals.class);
  /** Ticks per period: each renews about this fraction of the jobs. */
  static final int SLICES = 10;

  private final long leaseMs;
  private final Supplier<Collection<String>> running;
  private final ToLongFunction<String> epochOf;
  private final Function<LeaseRenewal, Future<LeaseRenewal.Result>> store;
  private final ObjLongConsumer<String> lost;
  private final Set<String> owed = new HashSet<>();
  private int slice;
  private boolean inFlight;
  private boolean failing;

  /**
   * @param running the ids of the jobs running now
   * @param epochOf the owner epoch this worker holds for a running job
   * @param store   sends a renewal to the store
   * @param lost    a job (and the epoch sent for it) that another worker owns now: the caller stops it if that epoch is
   *                still its own
   */
  public LeaseRenewals(long leaseMs, Supplier<Collection<String>> running, ToLongFunction<String> epochOf,
                       Function<LeaseRenewal, Future<LeaseRenewal.Result>> store, ObjLongConsumer<String> lost) {
    this.leaseMs = leaseMs;
    this.running = running;
    this.epochOf = epochOf;
    this.store = store;
    this.lost = lost;
  }

  /** How often one job is renewed, and how long a renewal may take: a third of the lease, so two may go missing. */
  public static long periodMs(long leaseMs) {
    return Math.max(100, leaseMs / 3);
  }

  public long tickMs() {
    return Math.max(10, periodMs(leaseMs) / SLICES);
  }

  /** Renews this tick's slice and whatever is owed, or owes them while a renewal is unanswered. */
  public void tick() {
    int now = slice;
    slice = (slice + 1) % SLICES;
    List<String> ids = new ArrayList<>();
    for (String id : running.get()) {
      if (Math.floorMod(id.hashCode(), SLICES) == now || owed.contains(id)) {
        ids.add(id);
      }
    }
    owed.clear();
    if (inFlight) {
      owed.addAll(ids);
      return;
    }
    if (ids.isEmpty()) {
      return;
    }
    List<Long> epochs = new ArrayList<>(ids.size());
    ids.forEach(id -> epochs.add(epochOf.applyAsLong(id)));
    inFlight = true;
    store.apply(new LeaseRenewal(ids, epochs, leaseMs)).onComplete(ar -> {
      inFlight = false;
      if (ar.failed()) {
        owed.addAll(ids);
        if (!failing) {
          log.warn("could not renew job leases (retrying): " + ar.cause().getMessage());
        }
        failing = true;
        return;
      }
      if (failing) {
        failing = false;
        log.info("job leases renewed again");
      }
      Set<String> moved = new HashSet<>(ar.result().lost());
      for (int i = 0; i < ids.size(); i++) {
        if (moved.contains(ids.get(i))) {
          lost.accept(ids.get(i), epochs.get(i));
        }
      }
    });
  }
}
