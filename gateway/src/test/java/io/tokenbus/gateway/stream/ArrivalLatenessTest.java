package io.tokenbus.gateway.stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class ArrivalLatenessTest {
  private final List<Long> reports = new ArrayList<>();
  private final ArrivalLateness lateness = new ArrivalLateness(reports::add);

  @Test
  void chunksOnTimeAreNotReported() {
    for (int i = 0; i < 1000; i++) {
      lateness.arrived(i % 2, i * 1_000_000L); // 0-1 ms above their jobs' best: timestamps are whole milliseconds
    }
    assertTrue(reports.isEmpty(), String.valueOf(reports));
  }

  @Test
  void aSteadyLatenessIsReportedEveryHundredMilliseconds() {
    for (int i = 0; i < 1000; i++) {
      lateness.arrived(500, i * 1_000_000L); // a chunk a millisecond for one second, each 500 ms late
    }
    reports.clear();
    for (int i = 1000; i < 2000; i++) {
      lateness.arrived(500, i * 1_000_000L);
    }
    assertEquals(10, reports.size(), "one report per 100 ms while steadily late: " + reports);
    assertTrue(reports.stream().allMatch(r -> r == 500), String.valueOf(reports));
    reports.clear();
    for (int i = 2000; i < 3000; i++) {
      lateness.arrived(0, i * 1_000_000L); // on time again: the smoothed lateness falls below the bound
    }
    assertTrue(reports.size() <= 1, "reports stop once chunks are on time again: " + reports);
    assertEquals(0, lateness.smoothedMs());
  }

  /** Workers decide against their own bound: a report under it must not delay the next one over it by 100 ms. */
  @Test
  void aRiseIsReportedAtOnce() {
    for (int i = 0; i < 100; i++) {
      lateness.arrived(2, i * 100_000L); // 2 ms late: reported (rounded up, 2), under the workers' bound
    }
    assertEquals(List.of(2L), reports);
    for (int i = 100; i < 110; i++) {
      lateness.arrived(10, i * 100_000L); // within the same 100 ms, chunks 10 ms late
    }
    assertTrue(reports.size() > 1 && reports.get(reports.size() - 1) > 2, String.valueOf(reports));
  }
}
