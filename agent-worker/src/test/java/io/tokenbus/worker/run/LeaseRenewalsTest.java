package io.tokenbus.worker.run;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tokenbus.events.ErrorCode;
import io.tokenbus.events.TokenbusException;
import io.tokenbus.events.internal.LeaseRenewal;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/** Lease renewals go a slice per tick, every job once per period, and nothing a failed or late renewal held is skipped. */
class LeaseRenewalsTest {
  private final Map<String, Long> running = new LinkedHashMap<>();
  private final List<LeaseRenewal> sent = new ArrayList<>();
  private final List<Promise<LeaseRenewal.Result>> answers = new ArrayList<>();
  private final Map<String, Long> lost = new HashMap<>();
  private final LeaseRenewals leases = new LeaseRenewals(15_000, running::keySet, running::get, r -> {
    sent.add(r);
    Promise<LeaseRenewal.Result> p = Promise.promise();
    answers.add(p);
    return p.future();
  }, lost::put);

  private void jobs(int n) {
    for (int i = 0; i < n; i++) {
      running.put(UUID.randomUUID().toString().replace("-", ""), (long) (i % 3 + 1));
    }
  }

  private void answerAll() {
    answers.forEach(p -> p.tryComplete(new LeaseRenewal.Result(List.of())));
  }

  @Test
  void everyJobOncePerPeriodInSlices() {
    jobs(1000);
    for (int t = 0; t < LeaseRenewals.SLICES; t++) {
      leases.tick();
      answerAll();
    }
    assertEquals(LeaseRenewals.SLICES, sent.size(), "one renewal per tick");
    List<String> renewed = sent.stream().flatMap(r -> r.jobIds().stream()).toList();
    assertEquals(1000, renewed.size(), "each job once per period");
    assertEquals(running.keySet(), new HashSet<>(renewed));
    int largest = sent.stream().mapToInt(r -> r.jobIds().size()).max().orElseThrow();
    assertTrue(largest <= 2 * 1000 / LeaseRenewals.SLICES, "renewals are spread over the period, the largest slice held " + largest);
    for (LeaseRenewal r : sent) {
      assertEquals(15_000, r.leaseMs());
      for (int i = 0; i < r.jobIds().size(); i++) {
        assertEquals(running.get(r.jobIds().get(i)), r.epochs().get(i), "the epoch this worker holds");
      }
    }
    assertEquals(500, leases.tickMs(), "a tenth of the 5 s period of a 15 s lease");
  }

  @Test
  void aFailedSliceGoesWithTheNextTick() {
    jobs(200);
    leases.tick();
    List<String> first = sent.get(0).jobIds();
    answers.get(0).fail(new TokenbusException(ErrorCode.STORE_UNAVAILABLE, "redis is down"));
    leases.tick();
    Set<String> second = new HashSet<>(sent.get(1).jobIds());
    assertTrue(second.containsAll(first), "the failed slice is renewed again at the next tick");
    assertEquals(first.size() + slice(1).size(), second.size(), "with that tick's own slice");
    answerAll();
    leases.tick();
    assertEquals(new HashSet<>(slice(2)), new HashSet<>(sent.get(2).jobIds()), "nothing owed once renewed");
  }

  @Test
  void atMostOneRenewalInFlightAndNothingSkippedMeanwhile() {
    jobs(200);
    leases.tick();
    leases.tick();
    leases.tick();
    assertEquals(1, sent.size(), "no second renewal while the first is unanswered");
    answerAll();
    leases.tick();
    Set<String> expected = new HashSet<>(slice(1));
    expected.addAll(slice(2));
    expected.addAll(slice(3));
    assertEquals(expected, new HashSet<>(sent.get(1).jobIds()), "the slices of the ticks it waited through, and this one's");
  }

  @Test
  void endedJobsAreNotRenewedAndMovedOnesAreReportedWithTheEpochSent() {
    jobs(200);
    leases.tick();
    List<String> first = sent.get(0).jobIds();
    String ended = first.get(0);
    String moved = first.get(1);
    long epoch = running.get(moved);
    answers.get(0).fail(new TokenbusException(ErrorCode.STORE_UNAVAILABLE, "timeout"));
    running.remove(ended);
    leases.tick();
    assertTrue(!sent.get(1).jobIds().contains(ended), "a job that ended is not renewed, even if it was owed");
    answers.get(1).complete(new LeaseRenewal.Result(List.of(moved)));
    assertEquals(Map.of(moved, epoch), lost);
  }

  /** The running jobs of slice {@code k}, as the class picks them. */
  private List<String> slice(int k) {
    return running.keySet().stream().filter(id -> Math.floorMod(id.hashCode(), LeaseRenewals.SLICES) == k).toList();
  }
}
