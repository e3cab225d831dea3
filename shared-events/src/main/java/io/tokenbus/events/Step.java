package io.tokenbus.events;

/** The workflow step a chunk or progress event belongs to. */
public enum Step {
  THINKING, SEARCHING, WRITING;

  public String wire() {
    return name().toLowerCase();
  }

  public static Step fromWire(String s) {
    if (s == null) {
      return null;
    }
    for (Step v : values()) {
      if (v.wire().equals(s)) {
        return v;
      }
    }
    throw TokenbusException.invalid("step must be one of thinking, searching, writing");
  }
}
