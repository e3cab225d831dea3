package io.tokenbus.runtime;

import java.util.Locale;
import java.util.Map;
import java.util.function.Function;

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
    return read(env, name, dflt, "a whole number", Long::parseLong);
  }

  public static double decimal(Map<String, String> env, String name, double dflt) {
    return read(env, name, dflt, "a number", v -> {
      double d = Double.parseDouble(v);
      return Double.isFinite(d) ? d : null;
    });
  }

  /** {@code true} or {@code false}, in any case. */
  public static boolean flag(Map<String, String> env, String name, boolean dflt) {
    return read(env, name, dflt, "true or false", v -> switch (v.toLowerCase(Locale.ROOT)) {
      case "true" -> true;
      case "false" -> false;
      default -> null;
    });
  }

  /**
   * The variable, stripped and parsed; {@code dflt} when unset or blank. Refused, naming it and {@code what} it must
   * be, when {@code parse} answers null or throws {@link NumberFormatException}.
   */
  private static <T> T read(Map<String, String> env, String name, T dflt, String what, Function<String, T> parse) {
    String v = env.get(name);
    if (v == null || v.isBlank()) {
      return dflt;
    }
    String s = v.strip();
    T t;
    try {
      t = parse.apply(s);
    } catch (NumberFormatException e) {
      t = null;
    }
    if (t == null) {
      throw new IllegalArgumentException(name + " must be " + what + ", not '" + s + "'");
    }
    return t;
  }
}
