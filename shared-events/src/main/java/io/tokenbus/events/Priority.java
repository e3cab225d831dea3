package io.tokenbus.events;

public enum Priority {
  INTERACTIVE, BACKGROUND;

  public String wire() {
    return name().toLowerCase();
  }

  public static Priority fromWire(String s) {
    for (Priority v : values()) {
      if (v.wire().equals(s)) {
        return v;
      }
    }
    throw TokenbusException.invalid("priority must be interactive or background");
  }
}
