package io.tokenbus.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import org.junit.jupiter.api.Test;

/** The connection limits as read from the environment: defaults, overrides, and the checks that protect streams. */
class GatewayConfigTest {
  @Test
  void connectionLimitsHaveExplicitDefaultsAndComeFromTheEnvironment() {
    GatewayConfig.Connections d = GatewayConfig.fromEnv(Map.of()).connections();
    assertEquals(new GatewayConfig.Connections(256, 5000, 30_000, 60_000, 10_000, 1024 * 1024, 2000, 16, java.util.List.of(), 20_000), d);

    GatewayConfig c = GatewayConfig.fromEnv(Map.of("TOKENBUS_MAX_STREAMS", "1000", "TOKENBUS_MAX_STREAMS_PER_ADDRESS", "8",
      "TOKENBUS_REGISTER_DEADLINE_SECONDS", "5", "TOKENBUS_HTTP_IDLE_TIMEOUT_SECONDS", "120", "TOKENBUS_HEADER_TIMEOUT_SECONDS", "2.5"));
    assertEquals(new GatewayConfig.Connections(8, 250, 5000, 120_000, 2500, 1024 * 1024, 2000, 16, java.util.List.of(), 20_000), c.connections(),
      "the anonymous share defaults to a quarter of TOKENBUS_MAX_STREAMS");
    assertEquals(100, GatewayConfig.fromEnv(Map.of("TOKENBUS_MAX_ANONYMOUS_SOCKETS", "100")).connections().maxAnonymousSockets());
    assertEquals(8, c.toJson().getJsonObject("connections").getInteger("maxStreamsPerAddress"), "logged at start");
  }

  @Test
  void limitsThatWouldCutStreamsOrCannotWorkAreRefused() {
    IllegalArgumentException idle = assertThrows(IllegalArgumentException.class,
      () -> GatewayConfig.fromEnv(Map.of("TOKENBUS_HTTP_IDLE_TIMEOUT_SECONDS", "20")));
    assertTrue(idle.getMessage().contains("twice the heartbeat"), idle.getMessage());
    IllegalArgumentException anon = assertThrows(IllegalArgumentException.class,
      () -> GatewayConfig.fromEnv(Map.of("TOKENBUS_MAX_STREAMS", "10", "TOKENBUS_MAX_ANONYMOUS_SOCKETS", "11")));
    assertTrue(anon.getMessage().contains("maxAnonymousSockets"), anon.getMessage());
    assertThrows(IllegalArgumentException.class, () -> GatewayConfig.fromEnv(Map.of("TOKENBUS_MAX_STREAMS_PER_ADDRESS", "0")));
    assertThrows(IllegalArgumentException.class, () -> GatewayConfig.fromEnv(Map.of("TOKENBUS_HEADER_TIMEOUT_SECONDS", "0")));
  }
}
