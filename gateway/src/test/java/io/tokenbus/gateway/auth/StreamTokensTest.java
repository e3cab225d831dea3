package io.tokenbus.gateway.auth;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tokenbus.events.ErrorCode;
import io.tokenbus.events.TokenbusException;
import io.tokenbus.gateway.GatewayConfig;
import java.time.Clock;
import java.time.Duration;
import java.util.Base64;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Stream-token key rotation as configured from the environment: the first key signs, every key verifies. */
class StreamTokensTest {
  private static final String OLD = Base64.getEncoder().encodeToString("old-secret-0123456789abcdef".getBytes());
  private static final String NEW = Base64.getEncoder().encodeToString("new-secret-0123456789abcdef".getBytes());
  private static final String JOB = "job0123456789abcdefgh";

  private static StreamTokens gateway(String secretEnv) {
    GatewayConfig c = GatewayConfig.fromEnv(Map.of("TOKENBUS_TOKEN_SECRET", secretEnv));
    return new StreamTokens(c.tokenSecrets(), c.tokenTtl(), Clock.systemUTC());
  }

  private static ErrorCode refusal(StreamTokens t, String token) {
    return assertThrows(TokenbusException.class, () -> t.verify(JOB, token)).code();
  }

  @Test
  void aTokenSignedByTheOldKeyVerifiesWithNewCommaOldAndIsRefusedWithNewOnly() {
    String oldToken = gateway(OLD).issue(JOB);
    assertDoesNotThrow(() -> gateway(NEW + "," + OLD).verify(JOB, oldToken));
    assertEquals(ErrorCode.FORBIDDEN, refusal(gateway(NEW), oldToken));
  }

  @Test
  void theRotationStepsKeepEveryIssuedTokenValidUntilTheOldKeyIsDropped() {
    StreamTokens before = gateway(OLD);
    StreamTokens step1 = gateway(OLD + "," + NEW); // new key added second: still signs with old
    StreamTokens step2 = gateway(NEW + ", " + OLD); // new key first: signs with new, old tokens still verify
    StreamTokens after = gateway(NEW);             // old key dropped after the token TTL
    String t0 = before.issue(JOB);
    String t1 = step1.issue(JOB);
    String t2 = step2.issue(JOB);
    // During the rollout gateways at any two adjacent steps verify each other's tokens.
    for (StreamTokens g : new StreamTokens[] {before, step1, step2}) {
      assertDoesNotThrow(() -> g.verify(JOB, t0));
      assertDoesNotThrow(() -> g.verify(JOB, t1));
    }
    for (StreamTokens g : new StreamTokens[] {step1, step2, after}) {
      assertDoesNotThrow(() -> g.verify(JOB, t2));
    }
    assertEquals(ErrorCode.FORBIDDEN, refusal(after, t0));
  }

  @Test
  void singleKeyFormStillWorksAndBadValuesAreRefusedWithoutEchoingTheSecret() {
    GatewayConfig one = GatewayConfig.fromEnv(Map.of("TOKENBUS_TOKEN_SECRET", OLD));
    assertEquals(1, one.tokenSecrets().size());
    assertArrayEquals(Base64.getDecoder().decode(OLD), one.tokenSecret());
    assertEquals(1, one.toJson().getInteger("tokenKeys"));
    assertFalse(one.toJson().encode().contains(OLD), "the config log line holds no key");
    IllegalArgumentException empty = assertThrows(IllegalArgumentException.class,
      () -> GatewayConfig.fromEnv(Map.of("TOKENBUS_TOKEN_SECRET", NEW + ",")));
    assertTrue(empty.getMessage().contains("key 2 is empty"), empty.getMessage());
    IllegalArgumentException bad = assertThrows(IllegalArgumentException.class,
      () -> GatewayConfig.fromEnv(Map.of("TOKENBUS_TOKEN_SECRET", NEW + ",not*base64")));
    assertTrue(bad.getMessage().contains("key 2") && !bad.getMessage().contains("not*base64"), bad.getMessage());
    IllegalArgumentException shortKey = assertThrows(IllegalArgumentException.class,
      () -> GatewayConfig.fromEnv(Map.of("TOKENBUS_TOKEN_SECRET", NEW + "," + Base64.getEncoder().encodeToString(new byte[8]))));
    assertTrue(shortKey.getMessage().contains("secret 2"), shortKey.getMessage());
  }

  @Test
  void aTokenForAnotherJobOrTamperedIsRefusedWhateverKeyIsTried() {
    StreamTokens g = gateway(NEW + "," + OLD);
    String t = g.issue(JOB);
    assertEquals(ErrorCode.FORBIDDEN, refusal(g, gateway(OLD).issue("another0123456789abcd")));
    assertEquals(ErrorCode.FORBIDDEN, refusal(g, t.substring(0, t.length() - 2) + "AA"));
    assertEquals(ErrorCode.UNAUTHORIZED, refusal(g, ""));
    StreamTokens expired = new StreamTokens(java.util.List.of(Base64.getDecoder().decode(OLD)), Duration.ofSeconds(-5), Clock.systemUTC());
    assertEquals(ErrorCode.FORBIDDEN, refusal(g, expired.issue(JOB)));
  }
}
