package io.tokenbus.launcher.faults;

import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;

/**
 * What one client received for one job, across all its connections: every chunk (first text per sequence), the
 * duplicates, the terminal event, a final error code (e.g. {@code history_lost}), transient errors it retried,
 * contract breaks (a terminal before some of its chunks, a chunk after the terminal), and timings (first chunk, how
 * long each reconnect took to deliver again). Thread-safe.
 *
 * <p>A chunk received again is a duplicate when the client had told the server it had it (sequence at or below the
 * {@code Last-Event-ID}/{@code afterSequence} of that connection) or when it arrives twice on one connection. A
 * chunk beyond the contiguous prefix that a reconnect replays again is not one (the client asked from its prefix).
 */
public final class StreamLog {
  private final String label;
  private final Api.Job job;
  private final long startNanos = System.nanoTime();
  private final TreeMap<Long, String> chunks = new TreeMap<>();
  private final List<String> problems = new ArrayList<>();
  private final List<String> transientErrors = new ArrayList<>();
  private final List<Long> resumeMillis = new ArrayList<>();
  private final CompletableFuture<Void> done = new CompletableFuture<>();
  private Set<Long> seenOnConnection = new HashSet<>();
  private long connectionAfter;
  private int connections;
  private int duplicates;
  private JsonObject terminal;
  private String errorCode;
  private String errorDetail;
  private long firstChunkNanos;
  private java.time.LocalTime endedAt;
  private long submitMillis = -1;

  StreamLog(String label, Api.Job job) {
    this.label = label;
    this.job = job;
  }

  public String label() {
    return label;
  }

  public Api.Job job() {
    return job;
  }

  public CompletableFuture<Void> done() {
    return done;
  }

  /** A new connection that asked for the chunks after {@code after}. */
  synchronized void beginConnection(long after) {
    connections++;
    connectionAfter = after;
    seenOnConnection = new HashSet<>();
  }

  synchronized void chunk(long sequence, String text) {
    if (firstChunkNanos == 0) {
      firstChunkNanos = System.nanoTime();
    }
    if (terminal != null) {
      problem("chunk " + sequence + " after the terminal " + terminal.getString("type"));
    }
    if (chunks.containsKey(sequence)) {
      if (sequence <= connectionAfter || seenOnConnection.contains(sequence)) {
        duplicates++;
        if (duplicates <= 3) {
          problem("duplicate chunk " + sequence + " on connection " + connections + " (asked after " + connectionAfter + ")");
        }
      }
    } else {
      chunks.put(sequence, text);
    }
    seenOnConnection.add(sequence);
  }

  synchronized void terminal(JsonObject t) {
    if (terminal != null) {
      problem("a second terminal " + t.getString("type"));
      return;
    }
    terminal = t;
    endedAt = java.time.LocalTime.now();
    long last = t.getLong("lastSequence", 0L);
    if (!"history_lost".equals(errorCodeOf(t))) {
      List<Long> missing = missingUpTo(last);
      if (!missing.isEmpty()) {
        problem(t.getString("type") + " (lastSequence " + last + ") before chunk(s) " + abbreviate(missing));
      }
    }
    done.complete(null);
  }

  /** A final error: the client stops (e.g. 410 history_lost, 404). */
  synchronized void fail(String code, String detail) {
    if (done.isDone()) {
      return;
    }
    errorCode = code;
    errorDetail = detail;
    endedAt = java.time.LocalTime.now();
    done.complete(null);
  }

  synchronized void transientError(String detail) {
    if (transientErrors.size() < 50) {
      transientErrors.add(detail);
    }
  }

  synchronized void resumed(long millis) {
    resumeMillis.add(millis);
  }

  private void problem(String p) {
    if (problems.size() < 20) {
      problems.add(p);
    }
  }

  /** The highest n such that chunks 1..n have all arrived. */
  public synchronized long prefix() {
    long n = 0;
    for (Long s : chunks.keySet()) {
      if (s != n + 1) {
        break;
      }
      n = s;
    }
    return n;
  }

  public synchronized int chunkCount() {
    return chunks.size();
  }

  public synchronized Map<Long, String> chunks() {
    return new TreeMap<>(chunks);
  }

  public synchronized int duplicates() {
    return duplicates;
  }

  public synchronized List<String> problems() {
    return List.copyOf(problems);
  }

  public synchronized List<String> transientErrors() {
    return List.copyOf(transientErrors);
  }

  public synchronized List<Long> resumeMillis() {
    return List.copyOf(resumeMillis);
  }

  public synchronized int connections() {
    return connections;
  }

  public synchronized JsonObject terminal() {
    return terminal == null ? null : terminal.copy();
  }

  public synchronized String errorCode() {
    return errorCode;
  }

  public synchronized String errorDetail() {
    return errorDetail;
  }

  /** How long the job's submission took, if the workload recorded it. */
  public synchronized long submitMillis() {
    return submitMillis;
  }

  synchronized void submitted(long millis) {
    submitMillis = millis;
  }

  /** Milliseconds from the follower's start to its first chunk, or -1. */
  public synchronized long firstChunkMillis() {
    return firstChunkNanos == 0 ? -1 : (firstChunkNanos - startNanos) / 1_000_000;
  }

  public synchronized List<Long> missingUpTo(long last) {
    List<Long> missing = new ArrayList<>();
    for (long s = 1; s <= last; s++) {
      if (!chunks.containsKey(s)) {
        missing.add(s);
      }
    }
    return missing;
  }

  /** The terminal's {@code error.code}, if any. */
  static String errorCodeOf(JsonObject terminal) {
    JsonObject e = terminal == null ? null : terminal.getJsonObject("error");
    return e == null ? null : e.getString("code");
  }

  static String abbreviate(List<Long> seqs) {
    if (seqs.size() <= 8) {
      return seqs.toString();
    }
    return seqs.subList(0, 4) + "..." + seqs.subList(seqs.size() - 2, seqs.size()) + " (" + seqs.size() + ")";
  }

  /** One line: what this client ended with. */
  public synchronized String summary() {
    StringBuilder sb = new StringBuilder(label).append(": ");
    if (terminal != null) {
      sb.append(terminal.getString("type"));
      String code = errorCodeOf(terminal);
      if (code != null) {
        sb.append(' ').append(code);
      }
      sb.append(" last=").append(terminal.getLong("lastSequence"));
    } else if (errorCode != null) {
      sb.append("error ").append(errorCode);
    } else {
      sb.append("no end yet");
    }
    if (endedAt != null) {
      sb.append(" at ").append(endedAt.truncatedTo(java.time.temporal.ChronoUnit.MILLIS));
    }
    sb.append(", ").append(chunks.size()).append(" chunks (prefix ").append(prefix()).append("), ")
      .append(duplicates).append(" duplicates, ").append(connections).append(" connection(s)");
    if (!problems.isEmpty()) {
      sb.append(", problems ").append(problems);
    }
    if (errorDetail != null) {
      sb.append(", error detail: ").append(errorDetail);
    }
    if (!transientErrors.isEmpty()) {
      sb.append(", retried after ").append(transientErrors.subList(0, Math.min(3, transientErrors.size())));
    }
    return sb.toString();
  }
}
