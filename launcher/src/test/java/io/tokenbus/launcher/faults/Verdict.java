package io.tokenbus.launcher.faults;

import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * Judges what the followers of a test recorded. Every wait has a deadline: a client with neither a terminal event nor
 * a final error by then is a hang. Failures name how many clients ended how (grouped), then the first of them in
 * detail, so one line tells what broke.
 */
public final class Verdict {
  /** Codes a client may end with when the history is really gone. */
  public static final Set<String> HISTORY_LOST = Set.of("history_lost");

  private Verdict() {}

  /** Waits until every follower has ended or the deadline passed; returns how long it took, in ms. */
  public static long await(Collection<? extends JobFollower> followers, long timeoutMs) {
    long start = System.nanoTime();
    CompletableFuture<?>[] all = followers.stream().map(f -> f.log().done()).toArray(CompletableFuture[]::new);
    try {
      CompletableFuture.allOf(all).get(timeoutMs, TimeUnit.MILLISECONDS);
    } catch (Exception timeoutOrFailure) {
      // judged below: whoever has not ended is a hang
    }
    return (System.nanoTime() - start) / 1_000_000;
  }

  /**
   * Every client got a terminal of one of {@code terminalTypes} (e.g. {@code job:completed}), all chunks 1..its
   * lastSequence exactly once, nothing after it, and, if it carries {@code result}, the chunks concatenated equal it.
   */
  public static void assertExact(String what, Collection<? extends JobFollower> followers, Set<String> terminalTypes) {
    judge(what, followers, log -> exactProblem(log, terminalTypes));
  }

  public static void assertAllCompleted(String what, Collection<? extends JobFollower> followers) {
    assertExact(what, followers, Set.of("job:completed"));
  }

  /**
   * Every client ended clearly: either exact (as {@link #assertExact} with {@code job:completed}), or with one of
   * {@code codes} as the terminal's {@code error.code} or as the final error of its stream; never a hang, never a
   * duplicate, never a completed job with holes.
   */
  public static void assertExactOrCode(String what, Collection<? extends JobFollower> followers, Set<String> codes) {
    judge(what, followers, log -> {
      if (log.terminal() == null && log.errorCode() == null) {
        return "hang";
      }
      String code = log.errorCode() != null ? log.errorCode() : StreamLog.errorCodeOf(log.terminal());
      if (code != null && codes.contains(code)) {
        if (log.duplicates() > 0) {
          return "ended " + code + " but with duplicate chunks";
        }
        return null;
      }
      return exactProblem(log, Set.of("job:completed"));
    });
  }

  static String exactProblem(StreamLog log, Set<String> terminalTypes) {
    JsonObject t = log.terminal();
    if (t == null) {
      return log.errorCode() != null ? "error " + log.errorCode() : "hang";
    }
    String type = t.getString("type");
    if (!terminalTypes.contains(type)) {
      String code = StreamLog.errorCodeOf(t);
      return type + (code == null ? "" : " " + code);
    }
    if (log.duplicates() > 0) {
      return "duplicates";
    }
    if (!log.problems().isEmpty()) {
      return "contract break";
    }
    long last = t.getLong("lastSequence", 0L);
    Map<Long, String> chunks = log.chunks();
    if (!log.missingUpTo(last).isEmpty()) {
      return "missing chunks";
    }
    if (chunks.size() != last) {
      return "chunks beyond lastSequence";
    }
    String result = t.getString("result");
    if (result != null && !result.equals(String.join("", chunks.values()))) {
      return "text differs from result";
    }
    return null;
  }

  private static void judge(String what, Collection<? extends JobFollower> followers, Function<StreamLog, String> problem) {
    Map<String, Integer> groups = new TreeMap<>();
    List<String> details = new ArrayList<>();
    for (JobFollower f : followers) {
      String p = problem.apply(f.log());
      if (p != null) {
        groups.merge(p, 1, Integer::sum);
        if (details.size() < 8) {
          details.add(f.log().summary());
        }
      }
    }
    if (!groups.isEmpty()) {
      int bad = groups.values().stream().mapToInt(Integer::intValue).sum();
      throw new AssertionError(what + ": " + bad + " of " + followers.size() + " clients broke the contract " + groups
        + "\n  " + String.join("\n  ", details));
    }
  }

  /** The largest of the values, or -1. */
  public static long max(Collection<Long> values) {
    return values.stream().mapToLong(Long::longValue).max().orElse(-1);
  }
}
