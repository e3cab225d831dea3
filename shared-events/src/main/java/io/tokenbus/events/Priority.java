package io.tokenbus.events;

public enum Priority {
  INTERACTIVE, BACKGROUND;

  private final String wire = Json.wireName(this);

  public String wire() {
    return wire;
  }

  public static Priority fromWire(String s) {
    return Json.enumValue(Priority.class, "priority", s);
  }
}
