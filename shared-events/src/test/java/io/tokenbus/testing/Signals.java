package io.tokenbus.testing;

import java.io.IOException;
import java.util.concurrent.TimeUnit;

/** POSIX signals to one process by its pid ({@code kill -STOP|-CONT|-TERM|-KILL <pid>}). */
public final class Signals {
  private Signals() {}

  public static void send(long pid, String signal) throws IOException {
    Process p = new ProcessBuilder("kill", "-" + signal, String.valueOf(pid)).redirectErrorStream(true).start();
    try {
      if (!p.waitFor(10, TimeUnit.SECONDS) || p.exitValue() != 0) {
        throw new IOException("kill -" + signal + " " + pid + " failed: " + new String(p.getInputStream().readAllBytes()));
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException(e);
    }
  }
}
