package io.tokenbus.events;

public enum JobType {
  ASK, RESEARCH, CODE, ANALYSIS;

  public String wire() {
    return name().toLowerCase();
  }

  public static JobType fromWire(String s) {
    return Json.enumValue(JobType.class, "type", s);
  }
}
