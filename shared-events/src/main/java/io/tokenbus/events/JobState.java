package io.tokenbus.events;

public enum JobState {
  QUEUED, RUNNING, COMPLETED, FAILED, CANCELLED;

  private final String wire = Json.wireName(this);

  public String wire() {
    return wire;
  }

  public boolean terminal() {
    return this == COMPLETED || this == FAILED || this == CANCELLED;
  }

  public static JobState fromWire(String s) {
    return Json.enumValue(JobState.class, "state", s);
  }
}
