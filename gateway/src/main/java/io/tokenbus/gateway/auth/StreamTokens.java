package io.tokenbus.gateway.auth;

import io.tokenbus.events.ErrorCode;
import io.tokenbus.events.TokenbusException;
import java.nio.charset.StandardCharsets;
import java.security.InvalidKeyException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Per-job stream tokens any gateway node can verify with the shared secret alone: {@code v1.<expiryEpochSeconds>.<mac>}
 * where mac = base64url(HMAC-SHA256(secret, "v1.<jobId>.<expiry>")). No session state is shared.
 *
 * <p>Several secrets may be configured so the secret can be rotated without cutting live streams: tokens are signed
 * with the first and accepted when any of them verifies. The token carries no key id, so verification tries each key
 * (a rotation holds two or three).
 */
public final class StreamTokens {
  private static final Base64.Encoder B64 = Base64.getUrlEncoder().withoutPadding();
  private final List<SecretKeySpec> keys;
  private final Duration ttl;
  private final Clock clock;

  public StreamTokens(byte[] secret, Duration ttl, Clock clock) {
    this(List.of(secret), ttl, clock);
  }

  /** @param secrets the signing secret first, then secrets still accepted for tokens issued before a rotation */
  public StreamTokens(List<byte[]> secrets, Duration ttl, Clock clock) {
    if (secrets.isEmpty()) {
      throw new IllegalArgumentException("at least one token secret is required");
    }
    this.keys = secrets.stream().map(s -> new SecretKeySpec(s, "HmacSHA256")).toList();
    this.ttl = ttl;
    this.clock = clock;
  }

  public String issue(String jobId) {
    long exp = clock.instant().plus(ttl).getEpochSecond();
    return "v1." + exp + "." + mac(keys.get(0), jobId, exp);
  }

  /** Fails with 401 when the token is missing, 403 when it is wrong, expired or for another job. */
  public void verify(String jobId, String token) {
    if (token == null || token.isEmpty()) {
      throw new TokenbusException(ErrorCode.UNAUTHORIZED, "a stream token is required (Authorization: Bearer <streamToken> or ?token=)");
    }
    String[] parts = token.split("\\.");
    long exp;
    try {
      exp = parts.length == 3 && parts[0].equals("v1") ? Long.parseLong(parts[1]) : -1;
    } catch (NumberFormatException e) {
      exp = -1;
    }
    boolean ok = false;
    if (exp > 0) {
      byte[] given = parts[2].getBytes(StandardCharsets.US_ASCII);
      // Every key is tried (no early exit), so the time taken does not tell which key matched.
      for (SecretKeySpec key : keys) {
        ok |= MessageDigest.isEqual(mac(key, jobId, exp).getBytes(StandardCharsets.US_ASCII), given);
      }
    }
    if (!ok) {
      throw new TokenbusException(ErrorCode.FORBIDDEN, "stream token is not valid for this job");
    }
    if (exp < clock.instant().getEpochSecond()) {
      throw new TokenbusException(ErrorCode.FORBIDDEN, "stream token has expired");
    }
  }

  private static String mac(SecretKeySpec key, String jobId, long exp) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(key);
      return B64.encodeToString(mac.doFinal(("v1." + jobId + "." + exp).getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException | InvalidKeyException e) {
      throw new IllegalStateException(e);
    }
  }
}
