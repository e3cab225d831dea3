package io.tokenbus.worker.run;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tokenbus.events.Priority;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** The background share under overload: what cuts it and how many paused jobs it lets go again. */
class OutboxBudgetTest {
  private long clock = System.nanoTime();

  /** Each report is one adjustment period after the last. */
  private long later() {
    clock += OutboxBudget.ADJUST_NANOS + 1;
    return clock;
  }

  private void cutToTheFloor(OutboxBudget budget) {
    budget.writeTook(1_000, later());
    for (int i = 0; i < 40; i++) {
      budget.writeTook(50_000, later());
    }
    assertEquals(OutboxBudget.MIN_BACKGROUND, budget.backgroundLimit());
  }

  @Test
  void aSmallShareResumesOnlyAsManyJobsAsItHasRoomFor() {
    // 1,800 paused background jobs all resumed at once each put a chunk in flight, whatever the share: in the
    // priority bench background kept 13k of 17k tokens/s with its share at the floor.
    OutboxBudget budget = new OutboxBudget(1000, 10_000);
    cutToTheFloor(budget);
    AtomicInteger resumed = new AtomicInteger();
    Runnable job = () -> {
      resumed.incrementAndGet();
      budget.take(Priority.BACKGROUND, 1); // a resumed model puts its next chunk in flight
    };
    budget.take(Priority.BACKGROUND, 1);
    for (int i = 0; i < 50; i++) {
      budget.whenRoom(Priority.BACKGROUND, () -> job.run()); // one waiter per job (a set of them)
    }
    budget.give(Priority.BACKGROUND, 1);
    assertEquals(1, resumed.get(), "one chunk of room: one job resumes, the others stay paused");
    budget.give(Priority.BACKGROUND, 1);
    assertEquals(2, resumed.get());

    for (int i = 0; i < 30; i++) {
      budget.writeTook(1_000, later()); // fast again: the share grows and lets that many more go
    }
    long share = budget.backgroundLimit();
    assertTrue(share > 1, "share grew: " + share);
    assertEquals(Math.min(49, share), resumed.get() - 1, "as many in flight as the share holds, not all 50");
  }

  @Test
  void aLaggingEventLoopCutsBackgroundWhileWritesAreFast() {
    OutboxBudget budget = new OutboxBudget(1000, 10_000);
    for (int i = 0; i < 40; i++) {
      budget.writeTook(1_000, later());
      budget.loopLagTook(5_000, later()); // 5 ms late against 2 ms (a fifth of the target): the CPU is saturated
    }
    assertEquals(OutboxBudget.MIN_BACKGROUND, budget.backgroundLimit());
    for (int i = 0; i < 80; i++) {
      budget.writeTook(1_000, later());
      budget.loopLagTook(100, later());
    }
    assertEquals(500, budget.backgroundLimit(), "an idle loop gives background its share back");
  }

  /** Fast writes and an idle loop, but a gateway says interactive chunks reach it late: the backlog is between them. */
  @Test
  void aGatewayReportingLateInteractiveChunksCutsBackgroundWhileTheWorkerLooksFine() {
    OutboxBudget budget = new OutboxBudget(1000, 10_000);
    for (int i = 0; i < 40; i++) {
      budget.downstreamLate(6, later()); // 6 ms against 5 (half the target), every 100 ms as a gateway reports
      budget.writeTook(1_000, later());
      budget.loopLagTook(100, later());
    }
    assertEquals(OutboxBudget.MIN_BACKGROUND, budget.backgroundLimit());
    clock += OutboxBudget.DOWNSTREAM_HOLD_NANOS; // the reports stop: they count only for a while
    for (int i = 0; i < 80; i++) {
      budget.writeTook(1_000, later());
      budget.loopLagTook(100, later());
    }
    assertEquals(500, budget.backgroundLimit(), "the share comes back once the gateway is quiet");
  }

  /** A gateway reports any lateness over a millisecond; within the worker's bound it is not a backlog. */
  @Test
  void aGatewayReportingLatenessWithinTheBoundLeavesBackgroundAlone() {
    OutboxBudget budget = new OutboxBudget(1000, 10_000);
    for (int i = 0; i < 40; i++) {
      budget.downstreamLate(5, later());
      budget.writeTook(1_000, later());
      budget.loopLagTook(100, later());
    }
    assertEquals(500, budget.backgroundLimit());
  }

  @Test
  void withoutATargetTheLoopIsNotWatched() {
    OutboxBudget budget = new OutboxBudget(1000);
    for (int i = 0; i < 40; i++) {
      budget.loopLagTook(1_000_000, later());
    }
    assertEquals(500, budget.backgroundLimit());
  }
}
