package io.tokenbus.launcher.faults;

import java.time.LocalTime;
import java.time.format.DateTimeFormatter;

/** Test-side events with wall-clock times (to line up with the process logs), on stdout (surefire's -output.txt). */
public final class Timeline {
  private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("HH:mm:ss.SSS");

  private Timeline() {}

  public static void mark(String event) {
    System.out.println("[timeline " + LocalTime.now().format(TIME) + "] " + event);
  }
}
