package io.tokenbus.worker.run;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Chunks waiting for the checkpoint store across all jobs of one worker. Each job also has its own bound; this one
 * keeps the sum bounded however many jobs run. Over the limit, jobs pause their model; below half, they resume.
 * Event-loop confined.
 */
public final class OutboxBudget {
  private final long max;
  private final Set<Runnable> waiting = new LinkedHashSet<>();
  private long used;

  public OutboxBudget(long max) {
    this.max = max;
  }

  void take(long n) {
    used += n;
  }

  void give(long n) {
    used -= n;
    if (used <= max / 2 && !waiting.isEmpty()) {
      List<Runnable> resume = new ArrayList<>(waiting);
      waiting.clear();
      resume.forEach(Runnable::run);
    }
  }

  boolean exhausted() {
    return used >= max;
  }

  /** Runs {@code resume} once the budget is back below half. */
  void whenRoom(Runnable resume) {
    waiting.add(resume);
  }

  void forget(Runnable resume) {
    waiting.remove(resume);
  }

  public long used() {
    return used;
  }
}
