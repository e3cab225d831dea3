package io.tokenbus.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * What the bench reads about server processes on the same machine: CPU time ({@code /proc/<pid>/stat}), resident
 * memory ({@code /proc/<pid>/status}) and live heap after a full collection ({@code jcmd GC.class_histogram}). CPU and
 * memory are the figures a noisy shared machine distorts least: they count what the server spent, not when it ran.
 * Reusable by any measurement that wants "µs of server CPU per unit of work" (see {@link CpuWindow}).
 */
final class ServerProbe {
  private static final long CLK_TCK = clockTicks();

  private ServerProbe() {}

  /** User + system CPU time of a process in microseconds, or -1 when it cannot be read. */
  static long cpuMicros(long pid) {
    if (pid <= 0) {
      return -1;
    }
    try {
      return statCpuMicros(Path.of("/proc/" + pid + "/stat"));
    } catch (IOException | RuntimeException e) {
      return -1;
    }
  }

  /**
   * CPU time of a JVM's JIT compiler threads (C1, C2) in microseconds, or -1. The part of a short run's JVM figure
   * that is warm-up, not work per token: C2 still compiles tens of seconds into a run at 20,000 tokens/s.
   */
  static long jitMicros(long pid) {
    if (pid <= 0) {
      return -1;
    }
    try (var tasks = Files.list(Path.of("/proc/" + pid + "/task"))) {
      long sum = 0;
      for (Path t : tasks.toList()) {
        if (Files.readString(t.resolve("comm")).contains("CompilerThre")) { // "C2 CompilerThre" (15 characters)
          sum += statCpuMicros(t.resolve("stat"));
        }
      }
      return sum;
    } catch (IOException | RuntimeException e) {
      return -1;
    }
  }

  private static long statCpuMicros(Path stat) throws IOException {
    String s = Files.readString(stat);
    // Fields after the command name (which may hold spaces) start at state, field 3: utime is 14, stime 15.
    String[] f = s.substring(s.lastIndexOf(')') + 2).split(" ");
    return (Long.parseLong(f[11]) + Long.parseLong(f[12])) * 1_000_000L / CLK_TCK;
  }

  /** Resident set size in KiB, or -1. */
  static long rssKb(long pid) {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
        if (line.startsWith("VmRSS:")) {
          return Long.parseLong(line.replaceAll("[^0-9]", ""));
        }
      }
    } catch (IOException | RuntimeException e) {
      return -1;
    }
    return -1;
  }

  /**
   * Live objects of a JVM by class (bytes), after the full collection that {@code GC.class_histogram} runs; the key
   * {@code "Total"} holds the sum.
   */
  static Map<String, Long> liveHistogram(long pid) throws IOException, InterruptedException {
    Path jcmd = Path.of(System.getProperty("java.home"), "bin", "jcmd");
    Process p = new ProcessBuilder(jcmd.toString(), String.valueOf(pid), "GC.class_histogram").redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!p.waitFor(120, TimeUnit.SECONDS) || p.exitValue() != 0) {
      throw new IOException("jcmd GC.class_histogram failed: " + out);
    }
    Map<String, Long> bytes = new HashMap<>();
    for (String line : out.split("\n")) {
      String[] f = line.trim().split("\\s+");
      // "  1:   123   4567  java.lang.String (java.base@17)": JDK classes carry their module (a fifth field)
      if (f.length >= 4 && f[0].endsWith(":")) {
        bytes.merge(f[3], Long.parseLong(f[2]), Long::sum);
      } else if (f.length == 3 && f[0].equals("Total")) {
        bytes.put("Total", Long.parseLong(f[2]));
      }
    }
    return bytes;
  }

  /** The classes whose live bytes grew most between two histograms, largest first, as "bytes class" lines. */
  static List<String> topGrowth(Map<String, Long> before, Map<String, Long> after, int n) {
    List<Map.Entry<String, Long>> d = new ArrayList<>();
    after.forEach((k, v) -> {
      if (!k.equals("Total")) {
        d.add(Map.entry(k, v - before.getOrDefault(k, 0L)));
      }
    });
    d.sort((a, b) -> Long.compare(b.getValue(), a.getValue()));
    return d.stream().limit(n).map(e -> e.getValue() + " " + e.getKey()).toList();
  }

  private static long clockTicks() {
    try {
      Process p = new ProcessBuilder("getconf", "CLK_TCK").start();
      String s = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
      p.waitFor(5, TimeUnit.SECONDS);
      return Long.parseLong(s);
    } catch (IOException | RuntimeException | InterruptedException e) {
      return 100; // Linux' USER_HZ almost everywhere
    }
  }

  /** CPU spent by the server JVM and by Redis between {@link #start} and {@link #stop}. */
  static final class CpuWindow {
    private final long jvmPid;
    private final long redisPid;
    private long jvm0;
    private long jit0;
    private long redis0;
    private long jvmMicros = -1;
    private long jitMicros = -1;
    private long redisMicros = -1;

    CpuWindow(long jvmPid, long redisPid) {
      this.jvmPid = jvmPid;
      this.redisPid = redisPid;
    }

    CpuWindow start() {
      jvm0 = cpuMicros(jvmPid);
      jit0 = jitMicros(jvmPid);
      redis0 = cpuMicros(redisPid);
      return this;
    }

    CpuWindow stop() {
      long j = cpuMicros(jvmPid);
      long c = jitMicros(jvmPid);
      long r = cpuMicros(redisPid);
      jvmMicros = j < 0 || jvm0 < 0 ? -1 : j - jvm0;
      jitMicros = c < 0 || jit0 < 0 ? -1 : c - jit0;
      redisMicros = r < 0 || redis0 < 0 ? -1 : r - redis0;
      return this;
    }

    /** µs of CPU per unit of work (token, chunk, replay), -1 where the process was not given or not readable. */
    double jvmPer(long units) {
      return jvmMicros < 0 || units <= 0 ? -1 : Math.round(jvmMicros * 100.0 / units) / 100.0;
    }

    /** The part of {@link #jvmPer} spent by the JIT compiler threads. */
    double jitPer(long units) {
      return jitMicros < 0 || units <= 0 ? -1 : Math.round(jitMicros * 100.0 / units) / 100.0;
    }

    double redisPer(long units) {
      return redisMicros < 0 || units <= 0 ? -1 : Math.round(redisMicros * 100.0 / units) / 100.0;
    }

    long jvmMicros() {
      return jvmMicros;
    }

    long redisMicros() {
      return redisMicros;
    }
  }
}
