package io.tokenbus.checkpoint;

import io.tokenbus.events.ErrorCode;
import io.tokenbus.events.TokenbusException;
import java.util.HashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Turns what the Redis client fails with into coded failures. */
final class RedisFailures {
  /** vertx-redis-client's batch failure: one line "ERR [index] cause" per failed command (RedisStandaloneConnection). */
  private static final Pattern BATCH_LINE = Pattern.compile("(?m)^ERR \\[(\\d+)\\] ");
  /** Error replies that say Redis cannot serve now (restarting, busy, read-only replica, out of memory): retry later. */
  private static final String[] UNAVAILABLE = {"LOADING", "BUSY", "READONLY", "MASTERDOWN", "TRYAGAIN", "CLUSTERDOWN",
    "OOM", "CONNECTION_CLOSED"};

  private RedisFailures() {
  }

  /** A Redis error reply of one command. NOSCRIPT stays visible in the message for the script cache to act on. */
  static TokenbusException reply(String message) {
    String m = String.valueOf(message).strip();
    for (String kind : UNAVAILABLE) {
      if (m.startsWith(kind) || m.startsWith("ERR " + kind)) {
        return unavailable("redis: " + m);
      }
    }
    return new TokenbusException(ErrorCode.INTERNAL, "redis error: " + m);
  }

  static TokenbusException unavailable(String message) {
    return new TokenbusException(ErrorCode.STORE_UNAVAILABLE, message);
  }

  static boolean isNoScript(Throwable t) {
    return t instanceof TokenbusException e && e.code() == ErrorCode.INTERNAL
      && String.valueOf(e.getMessage()).startsWith("redis error: NOSCRIPT");
  }

  /** The per-command causes of a failed batch by index, or null when the message is not in that shape. */
  static Map<Integer, String> batchCauses(String message) {
    if (message == null) {
      return null;
    }
    Matcher m = BATCH_LINE.matcher(message);
    Map<Integer, String> out = new HashMap<>();
    int index = -1;
    int from = -1;
    while (m.find()) {
      if (index >= 0) {
        out.put(index, message.substring(from, m.start()).strip());
      }
      index = Integer.parseInt(m.group(1));
      from = m.end();
    }
    if (index < 0) {
      return null;
    }
    out.put(index, message.substring(from).strip());
    return out;
  }
}
