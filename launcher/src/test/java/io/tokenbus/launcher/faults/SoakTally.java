package io.tokenbus.launcher.faults;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * What the soak ({@link SoakTest}) counts, from any thread: each ended or hung client judged against the contract
 * (lost, duplicated, hung, contract breaks, outcomes by code, resumption times), submit retries, faults and process
 * restarts; and the summary made of them. A client passes when it got exactly 1..lastSequence of its terminal, or
 * ended with a clear code; {@code history_lost} is a clear end whatever came before.
 */
final class SoakTally {
  /** At most this many failing clients are described in the summary. */
  private static final int MAX_DETAILS = 20;
  private final Map<String, Integer> outcomes = new TreeMap<>();
  private final List<String> badDetails = new ArrayList<>();
  private final List<Long> resumes = new ArrayList<>();
  private final Map<String, Integer> submitErrorKinds = new TreeMap<>();
  private final List<String> faults = new ArrayList<>();
  private long submitErrors;
  private long jobs;
  private long chunks;
  private long lost;
  private long duplicated;
  private long contractBreaks;
  private long hung;
  private long maxRestartMs;

  /** Counts one ended (or hung) client. */
  synchronized void judge(StreamLog log) {
    jobs++;
    chunks += log.chunkCount();
    duplicated += log.duplicates();
    resumes.addAll(log.resumeMillis());
    JsonObject t = log.terminal();
    String outcome;
    boolean bad = false;
    if (t == null && log.errorCode() == null) {
      hung++;
      outcome = "hung";
      bad = true;
    } else if (t == null) {
      outcome = "error " + log.errorCode();
    } else {
      String code = StreamLog.errorCodeOf(t);
      outcome = t.getString("type") + (code == null ? "" : " " + code);
      long last = t.getLong("lastSequence", 0L);
      if (!"history_lost".equals(code)) {
        int missing = log.missingUpTo(last).size();
        lost += missing;
        bad = missing > 0 || log.chunkCount() > last;
      }
      String result = t.getString("result");
      if (result != null && !result.equals(String.join("", log.chunks().values()))) {
        bad = true;
        outcome += " (text differs from result)";
      }
    }
    if (!log.problems().isEmpty()) {
      contractBreaks++;
      bad = true;
    }
    bad |= log.duplicates() > 0;
    record(outcome, bad ? log.summary() : null);
  }

  /** An outcome that is not a judged client (e.g. a slot whose submits failed for a minute). */
  synchronized void record(String outcome, String badDetail) {
    outcomes.merge(outcome, 1, Integer::sum);
    if (badDetail != null && badDetails.size() < MAX_DETAILS) {
      badDetails.add(badDetail);
    }
  }

  /** A submit that failed (and is retried), counted by kind. */
  synchronized void submitFailed(Exception e) {
    submitErrors++;
    String kind = String.valueOf(e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage())
      .replaceAll("port \\d+", "port N");
    submitErrorKinds.merge(kind.substring(0, Math.min(120, kind.length())), 1, Integer::sum);
  }

  /** A killed process's replacement ran {@code ms} after the kill. */
  synchronized void restarted(long ms) {
    maxRestartMs = Math.max(maxRestartMs, ms);
  }

  synchronized void fault(String line) {
    faults.add(line);
  }

  /** One row of the progress CSV: t_s,active,jobs_ended,chunks_received,hung. */
  synchronized String progressRow(long t, int active, long liveChunks) {
    return t + "," + active + "," + jobs + "," + (chunks + liveChunks) + "," + hung + "\n";
  }

  /** What must be all zeros for the soak to pass. */
  synchronized String verdict() {
    return "lost " + lost + ", duplicated " + duplicated + ", contract breaks " + contractBreaks + ", hung " + hung;
  }

  /** The failing clients described, one per line (at most {@link #MAX_DETAILS}). */
  synchronized String problems() {
    return String.join("\n  ", badDetails);
  }

  /** The counts, then {@code where} (memory, files), then the failing clients. */
  synchronized JsonObject summary(int minutes, int streams, JsonObject where) {
    List<Long> sorted = resumes.stream().sorted().toList();
    return new JsonObject()
      .put("minutes", minutes).put("streams", streams)
      .put("jobs", jobs).put("chunks", chunks).put("lost", lost).put("duplicated", duplicated).put("hung", hung)
      .put("contractBreaks", contractBreaks)
      .put("outcomes", new JsonObject(new LinkedHashMap<>(outcomes)))
      .put("submitRetries", submitErrors)
      .put("submitErrors", new JsonObject(new LinkedHashMap<>(submitErrorKinds)))
      .put("maxProcessRestartMs", maxRestartMs)
      .put("resumptions", sorted.size())
      .put("resumeP50Ms", sorted.isEmpty() ? 0 : sorted.get(sorted.size() / 2))
      .put("resumeP99Ms", sorted.isEmpty() ? 0 : sorted.get((int) (sorted.size() * 0.99)))
      .put("maxResumeMs", sorted.isEmpty() ? 0 : sorted.get(sorted.size() - 1))
      .put("faults", new JsonArray(new ArrayList<>(faults)))
      .mergeIn(where)
      .put("problems", new JsonArray(new ArrayList<>(badDetails)));
  }

  /** The summary on one line, as the soak prints it. */
  static String line(JsonObject s) {
    StringBuilder rssLine = new StringBuilder();
    s.getJsonObject("rssKb").forEach(e -> {
      JsonObject r = (JsonObject) e.getValue();
      rssLine.append(' ').append(e.getKey()).append('=').append(r.getLong("firstKb") / 1024).append('/')
        .append(r.getLong("lastKb") / 1024);
    });
    return "minutes=" + s.getInteger("minutes") + " jobs=" + s.getLong("jobs") + " chunks=" + s.getLong("chunks")
      + " lost=" + s.getLong("lost") + " duplicated=" + s.getLong("duplicated") + " hung=" + s.getLong("hung")
      + " contractBreaks=" + s.getLong("contractBreaks") + " maxRecoverMs=" + s.getLong("maxResumeMs")
      + " (p99 " + s.getLong("resumeP99Ms") + ", " + s.getInteger("resumptions") + " resumptions)"
      + " maxRestartMs=" + s.getLong("maxProcessRestartMs")
      + " outcomes=" + s.getJsonObject("outcomes").encode() + " rssMB(first/last):" + rssLine;
  }
}
