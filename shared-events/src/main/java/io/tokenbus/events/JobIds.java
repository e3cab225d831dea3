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

  public static boolean valid(String id) {
    return id != null && PATTERN.matcher(id).matches();
  }

  public static String require(String id) {
    if (!valid(id)) {
      throw TokenbusException.invalid("jobId must match " + PATTERN.pattern());
    }
    return id;
  }
}
