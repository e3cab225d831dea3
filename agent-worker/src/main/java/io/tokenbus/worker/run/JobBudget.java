package io.tokenbus.worker.run;

import io.tokenbus.events.Priority;

/**
 * One job's part of the worker's {@link OutboxBudget}: the chunks it holds (made, not stored yet), counted under the
 * priority it runs at now. A job's priority can change while it runs (an interactive job nobody follows runs as
 * background), and what it holds moves with it, so the budget's per-priority counts stay exact. Event-loop confined.
 */
final class JobBudget {
  private final OutboxBudget budget;
  private Priority priority;
  private long held;

  JobBudget(OutboxBudget budget, Priority priority) {
    this.budget = budget;
    this.priority = priority;
  }

  Priority priority() {
    return priority;
  }

  /** Counts {@code p} from now on, what the job holds included; false if it already was. */
  boolean priority(Priority p) {
    if (p == priority) {
      return false;
    }
    Priority was = priority;
    priority = p; // first: giving back may wake jobs, this one's resume included, which then see the new priority
    budget.take(p, held);
    budget.give(was, held);
    return true;
  }

  void take(long n) {
    held += n;
    budget.take(priority, n);
  }

  void give(long n) {
    held -= n;
    budget.give(priority, n);
  }

  boolean exhausted() {
    return budget.exhausted(priority);
  }

  void whenRoom(Runnable resume) {
    budget.whenRoom(priority, resume);
  }

  void forget(Runnable resume) {
    budget.forget(resume);
  }

  long held() {
    return held;
  }
}
