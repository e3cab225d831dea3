package io.tokenbus.events;

import io.vertx.core.json.JsonObject;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;

/** Typed field access that turns a wrong JSON type into a coded validation failure instead of a ClassCastException. */
public final class Json {
  private Json() {}

  public static String string(JsonObject json, String field) {
    Object v = json.getValue(field);
    if (v == null) {
      return null;
    }
    if (v instanceof String s) {
      return s;
    }
    throw TokenbusException.invalid(field + " must be a string");
  }

  public static String requiredString(JsonObject json, String field) {
    String s = string(json, field);
    if (s == null) {
      throw TokenbusException.invalid(field + " is required");
    }
    return s;
  }

  public static int integer(JsonObject json, String field) {
    Object v = json.getValue(field);
    if (v instanceof Integer || v instanceof Long || v instanceof Short) {
      long l = ((Number) v).longValue();
      if (l >= Integer.MIN_VALUE && l <= Integer.MAX_VALUE) {
        return (int) l;
      }
    }
    throw TokenbusException.invalid(field + " must be an integer");
  }

  public static long longValue(JsonObject json, String field, long dflt) {
    Object v = json.getValue(field);
    if (v == null) {
      return dflt;
    }
    if (v instanceof Integer || v instanceof Long || v instanceof Short) {
      return ((Number) v).longValue();
    }
    throw TokenbusException.invalid(field + " must be an integer");
  }

  /** The wire form of an enum constant: its lower-case name. */
  public static String wireName(Enum<?> e) {
    return e.name().toLowerCase(Locale.ROOT);
  }

  // Per enum type, wire name to constant: decoding runs per chunk, so no array copy and lower-casing per call.
  private static final ClassValue<Map<String, Object>> BY_WIRE = new ClassValue<>() {
    @Override
    protected Map<String, Object> computeValue(Class<?> type) {
      Map<String, Object> m = new HashMap<>();
      for (Object v : type.getEnumConstants()) {
        m.put(wireName((Enum<?>) v), v);
      }
      return Map.copyOf(m);
    }
  };

  /** The constant whose lower-case name is {@code s}, or a validation failure naming the allowed values. */
  public static <E extends Enum<E>> E enumValue(Class<E> type, String field, String s) {
    Object v = s == null ? null : BY_WIRE.get(type).get(s);
    if (v == null) {
      StringBuilder allowed = new StringBuilder();
      for (E c : type.getEnumConstants()) {
        allowed.append(allowed.length() == 0 ? "" : ", ").append(wireName(c));
      }
      throw TokenbusException.invalid(field + " must be one of " + allowed);
    }
    return type.cast(v);
  }
}
