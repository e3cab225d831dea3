package io.tokenbus.worker.run;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tokenbus.events.Priority;
import io.tokenbus.events.internal.WatchedJobs;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Which running jobs count as followed, and what a job's change of priority does to the worker's budget. */
class WatchersTest {
  private static final long S = TimeUnit.SECONDS.toNanos(1);
  private final Watchers watchers = new Watchers();
  /** Started long enough ago to be past the grace period. */
  private final long started = 0;
  private final long now = 10 * S;

  @Test
  void aJobNoGatewayListsIsUnwatched() {
    watchers.update(new WatchedJobs("gw-a", 3000, Set.of("seen")), now);
    assertTrue(watchers.followed("seen", started, now));
    assertFalse(watchers.followed("unseen", started, now));
  }

  @Test
  void anyGatewaysListCounts() {
    watchers.update(new WatchedJobs("gw-a", 3000, Set.of("a")), now);
    watchers.update(new WatchedJobs("gw-b", 3000, Set.of("b")), now);
    assertTrue(watchers.followed("a", started, now));
    assertTrue(watchers.followed("b", started, now));
    watchers.update(new WatchedJobs("gw-b", 3000, Set.of()), now + S); // b's follower left
    assertFalse(watchers.followed("b", started, now + S));
  }

  @Test
  void withoutAValidListEveryJobKeepsItsPriority() {
    assertTrue(watchers.followed("any", started, now), "no gateway publishes (none yet, or an older version)");
    watchers.update(new WatchedJobs("gw-a", 3000, Set.of()), now);
    assertFalse(watchers.followed("any", started, now));
    assertTrue(watchers.followed("any", started, now + 3 * S), "the only list ran out (its gateway is gone)");
  }

  @Test
  void aNewJobIsFollowedUntilTheGracePeriodEnds() {
    watchers.update(new WatchedJobs("gw-a", 3000, Set.of()), now);
    assertTrue(watchers.followed("new", now - S, now), "its first follower may come with the next list");
    assertFalse(watchers.followed("new", now - Watchers.GRACE_NANOS, now));
  }

  @Test
  void whatAJobHoldsMovesWithItsPriority() {
    OutboxBudget budget = new OutboxBudget(1000);
    JobBudget job = new JobBudget(budget, Priority.INTERACTIVE);
    JobBudget other = new JobBudget(budget, Priority.BACKGROUND);
    job.take(300);
    other.take(150);
    assertEquals(150, budget.backgroundUsed());
    assertTrue(job.priority(Priority.BACKGROUND));
    assertFalse(job.priority(Priority.BACKGROUND), "no change");
    assertEquals(450, budget.used());
    assertEquals(450, budget.backgroundUsed(), "the 300 it holds count as background now");
    job.give(100);
    assertEquals(350, budget.backgroundUsed());
    assertTrue(job.priority(Priority.INTERACTIVE));
    assertEquals(150, budget.backgroundUsed(), "and back");
    job.give(200);
    other.give(150);
    assertEquals(0, budget.used(), "every chunk given back under the priority it was counted in");
    assertEquals(0, job.held());
    assertEquals(0, budget.backgroundUsed());
  }
}
