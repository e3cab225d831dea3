package io.tokenbus.events;

import java.security.SecureRandom;
import java.util.Base64;
import java.util.regex.Pattern;

/** Job ids: 144 random bits, base64url without padding (24 chars), matching {@link #PATTERN}. */
public final class JobIds {
  public static final Pattern PATTERN = Pattern.compile("[A-Za-z0-9_-]{16,64}");
  private static final Base64.Encoder B64 = Base64.getUrlEncoder().withoutPadding();

  private JobIds() {}

  public static String newId(SecureRandom random) {
    byte[] bytes = new byte[18];
    random.nextBytes(bytes);
    return B64.encodeToString(bytes);
  }

  /** Same as {@link #PATTERN}, without a regex: this runs for every event. */
  public static boolean valid(String id) {
    if (id == null || id.length() < 16 || id.length() > 64) {
      return false;
    }
    for (int i = 0; i < id.length(); i++) {
      char c = id.charAt(i);
      if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-')) {
        return false;
      }
    }
    return true;
  }

  public static String require(String id) {
    if (!valid(id)) {
      throw TokenbusException.invalid("jobId must match " + PATTERN.pattern());
    }
    return id;
  }
}
