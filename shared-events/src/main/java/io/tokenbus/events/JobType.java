package io.tokenbus.events;

public enum JobType {
  ASK, RESEARCH, CODE, ANALYSIS;

  public String wire() {
    return name().toLowerCase();
  }

  public static JobType fromWire(String s) {
    for (JobType v : values()) {
      if (v.wire().equals(s)) {
        return v;
      }
    }
    throw TokenbusException.invalid("type must be one of ask, research, code, analysis");
  }
}
