package io.tokenbus.events;

public enum Priority {
  INTERACTIVE, BACKGROUND;

  public String wire() {
    return name().toLowerCase();
  }

  public static Priority fromWire(String s) {
    return Json.enumValue(Priority.class, "priority", s);
  }
}
