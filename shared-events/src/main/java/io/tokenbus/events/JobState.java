package io.tokenbus.events;

public enum JobState {
  QUEUED, RUNNING, COMPLETED, FAILED, CANCELLED;

  public String wire() {
    return name().toLowerCase();
  }

  public boolean terminal() {
    return this == COMPLETED || this == FAILED || this == CANCELLED;
  }

  public static JobState fromWire(String s) {
    for (JobState v : values()) {
      if (v.wire().equals(s)) {
        return v;
      }
    }
    throw TokenbusException.invalid("unknown job state " + s);
  }
}
