package io.tokenbus.launcher.faults;

import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The resident memory of the soak's processes over time ({@code VmRSS} of /proc/<pid>/status): one CSV row per live
 * process per sample, and the first, last and highest value of each. Thread-safe.
 */
final class ProcessRss {
  private final Map<String, String> procs = new LinkedHashMap<>(); // name -> pid
  private final Map<String, long[]> rss = new LinkedHashMap<>();   // name -> {first, last, max} kB

  /** Samples {@code name} from now on (a restarted process comes under a new name). */
  synchronized void track(String name, long pid) {
    procs.put(name, String.valueOf(pid));
  }

  /** Samples every tracked process still alive; returns its CSV rows {@code t_s,process,pid,rss_kb}. */
  String sample(long t) {
    StringBuilder rows = new StringBuilder();
    Map<String, String> now;
    synchronized (this) {
      now = new LinkedHashMap<>(procs);
    }
    for (Map.Entry<String, String> e : now.entrySet()) {
      long kb = vmRssKb(e.getValue());
      if (kb < 0) {
        continue;
      }
      rows.append(t).append(',').append(e.getKey()).append(',').append(e.getValue()).append(',').append(kb).append('\n');
      synchronized (this) {
        long[] r = rss.computeIfAbsent(e.getKey(), k -> new long[] {kb, kb, kb});
        r[1] = kb;
        r[2] = Math.max(r[2], kb);
      }
    }
    return rows.toString();
  }

  /** {@code name(pid)} → {firstKb, lastKb, maxKb} for every process sampled at least once. */
  synchronized JsonObject toJson() {
    JsonObject json = new JsonObject();
    rss.forEach((name, r) -> json.put(name + "(" + procs.get(name) + ")",
      new JsonObject().put("firstKb", r[0]).put("lastKb", r[1]).put("maxKb", r[2])));
    return json;
  }

  private static long vmRssKb(String pid) {
    try {
      for (String l : Files.readAllLines(Path.of("/proc", pid, "status"))) {
        if (l.startsWith("VmRSS:")) {
          return Long.parseLong(l.replaceAll("[^0-9]", ""));
        }
      }
    } catch (IOException | NumberFormatException gone) {
      // the process has exited
    }
    return -1;
  }
}
