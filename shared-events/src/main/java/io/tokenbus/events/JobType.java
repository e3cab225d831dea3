package io.tokenbus.events;

public enum JobType {
  ASK, RESEARCH, CODE, ANALYSIS;

  private final String wire = Json.wireName(this);

  public String wire() {
    return wire;
  }

  public static JobType fromWire(String s) {
    return Json.enumValue(JobType.class, "type", s);
  }
}
