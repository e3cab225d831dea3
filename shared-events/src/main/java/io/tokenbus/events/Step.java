package io.tokenbus.events;

/** The workflow step a chunk or progress event belongs to. */
public enum Step {
  THINKING, SEARCHING, WRITING;

  private final String wire = Json.wireName(this);

  public String wire() {
    return wire;
  }

  public static Step fromWire(String s) {
    if (s == null) {
      return null;
    }
    return Json.enumValue(Step.class, "step", s);
  }
}
