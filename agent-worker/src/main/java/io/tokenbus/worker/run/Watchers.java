package io.tokenbus.worker.run;

import io.tokenbus.events.internal.WatchedJobs;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * Which jobs some client follows, from the lists every gateway publishes ({@link WatchedJobs}). A job is unwatched
 * only while at least one gateway's list is valid and none names it (a worker that hears from no gateway, e.g. during
 * a rolling update from gateways that do not publish, keeps every job's own priority), and once it has run for
 * {@link #GRACE_NANOS} (its first follower may join just after a list was sent). Event-loop confined.
 */
public final class Watchers {
  /** Longer than a gateway's publishing period (1 s), so a job followed from its start is never demoted. */
  static final long GRACE_NANOS = TimeUnit.MILLISECONDS.toNanos(2500);

  private record Entry(long expiresAtNanos, Set<String> jobIds) {}

  private final Map<String, Entry> lists = new HashMap<>();

  public void update(WatchedJobs w, long nowNanos) {
    lists.values().removeIf(e -> e.expiresAtNanos <= nowNanos);
    lists.put(w.watcherId(), new Entry(nowNanos + TimeUnit.MILLISECONDS.toNanos(w.validMs()), w.jobIds()));
  }

  /** Whether some client follows {@code run} now, or it must be taken to (see the class comment). */
  public boolean followed(JobRun run, long nowNanos) {
    return followed(run.jobId(), run.startedAtNanos(), nowNanos);
  }

  boolean followed(String jobId, long startedAtNanos, long nowNanos) {
    if (nowNanos - startedAtNanos < GRACE_NANOS) {
      return true;
    }
    boolean heard = false;
    for (Entry e : lists.values()) {
      if (e.expiresAtNanos > nowNanos) {
        heard = true;
        if (e.jobIds.contains(jobId)) {
          return true;
        }
      }
    }
    return !heard;
  }
}
