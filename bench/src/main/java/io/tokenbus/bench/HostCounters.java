package io.tokenbus.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Counters read from the host, outside the processes under test, so they cost the server nothing and cannot be
 * flattered by it: bytes on the wire from the kernel's per-socket TCP counters ({@code ss -ti}), CPU time of a
 * process from {@code /proc/<pid>/stat}.
 */
final class HostCounters {
  private static final Pattern BYTES_RECEIVED = Pattern.compile("bytes_received:(\\d+)");

  private HostCounters() {}

  /**
   * TCP payload bytes received so far by every established socket connected to {@code port} on this host (the
   * bench's sockets to the server): HTTP heads, chunk framing, websocket frames and bodies as sent, compressed or not;
   * without TCP/IP headers. -1 when {@code ss} is not available.
   */
  static long bytesReceivedFrom(int port) {
    try {
      Process p = new ProcessBuilder("ss", "-tniH", "state", "established", "( dport = :" + port + " )")
        .redirectErrorStream(true).start();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      if (p.waitFor() != 0) {
        return -1;
      }
      long sum = 0;
      Matcher m = BYTES_RECEIVED.matcher(out);
      while (m.find()) {
        sum += Long.parseLong(m.group(1));
      }
      return sum;
    } catch (IOException e) {
      return -1;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return -1;
    }
  }

  /** User + system CPU time of a process in microseconds, or -1 when it cannot be read (pid 0: not given). */
  static long cpuMicros(long pid, int clockTicksPerSecond) {
    if (pid <= 0) {
      return -1;
    }
    try {
      String stat = Files.readString(Path.of("/proc", String.valueOf(pid), "stat"));
      // Fields after the command name (which may hold spaces) start at state: utime and stime are the 12th and 13th.
      String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
      long ticks = Long.parseLong(f[11]) + Long.parseLong(f[12]);
      return ticks * 1_000_000L / clockTicksPerSecond;
    } catch (IOException | RuntimeException e) {
      return -1;
    }
  }
}
