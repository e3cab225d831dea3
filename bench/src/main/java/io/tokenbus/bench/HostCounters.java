package io.tokenbus.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Counters read from the host, outside the processes under test, so they cost the server nothing and cannot be
 * flattered by it: bytes on the wire from the kernel's per-socket TCP counters ({@code ss -ti}). The CPU time and
 * memory of the server processes are {@link ServerProbe}'s.
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
}
