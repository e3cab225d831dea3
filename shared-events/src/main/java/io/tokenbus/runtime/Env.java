package io.tokenbus.runtime;

import java.util.Locale;
import java.util.Map;

/**
 * Typed reads of settings from the environment, for every service's config record. An unset or blank variable reads
 * as the default; a value that does not parse is refused with a message naming the variable, so a typo stops the
 * process at start instead of running it with a value nobody chose.
 */
public final class Env {
  private Env() {}

  public static int integer(Map<String, String> env, String name, int dflt) {
    long n = whole(env, name, dflt);
    if (n < Integer.MIN_VALUE || n > Integer.MAX_VALUE) {
      throw new IllegalArgumentException(name + " is out of range: " + env.get(name));
    }
    return (int) n;
  }

  public static long whole(Map<String, String> env, String name, long dflt) {
    String v = value(env, name);
    if (v == null) {
      return dflt;
    }
    try {
      return Long.parseLong(v);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(name + " must be a whole number, not '" + v + "'");
    }
  }

  public static double decimal(Map<String, String> env, String name, double dflt) {
    String v = value(env, name);
    if (v == null) {
      return dflt;
    }
    try {
      double d = Double.parseDouble(v);
      if (!Double.isFinite(d)) {
        throw new NumberFormatException();
      }
      return d;
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(name + " must be a number, not '" + v + "'");
    }
  }

  /** {@code true} or {@code false}, in any case. */
  public static boolean flag(Map<String, String> env, String name, boolean dflt) {
    String v = value(env, name);
    if (v == null) {
      return dflt;
    }
    return switch (v.toLowerCase(Locale.ROOT)) {
      case "true" -> true;
      case "false" -> false;
      default -> throw new IllegalArgumentException(name + " must be true or false, not '" + v + "'");
    };
  }

  private static String value(Map<String, String> env, String name) {
    String v = env.get(name);
    return v == null || v.isBlank() ? null : v.strip();
  }
}
