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
    return Json.enumValue(JobState.class, "state", s);
  }
}
