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

  @Test
  void drainSettingsComeFromTheEnvironmentAndTheSpreadFitsTheDeadline() {
    assertEquals(new GatewayConfig.Drain(30_000, 3000), GatewayConfig.fromEnv(Map.of()).drain());
    assertEquals(new GatewayConfig.Drain(10_000, 500), GatewayConfig.fromEnv(Map.of("TOKENBUS_GATEWAY_DRAIN_SECONDS", "10",
      "TOKENBUS_GATEWAY_DRAIN_SPREAD_MS", "500")).drain());
    assertEquals(new GatewayConfig.Drain(0, 0), GatewayConfig.fromEnv(Map.of("TOKENBUS_GATEWAY_DRAIN_SECONDS", "0")).drain(),
      "0: close at once; the default spread shrinks to fit a deadline set alone");
    assertEquals(new GatewayConfig.Drain(4000, 2000), GatewayConfig.fromEnv(Map.of("TOKENBUS_GATEWAY_DRAIN_SECONDS", "4")).drain());
    IllegalArgumentException spread = assertThrows(IllegalArgumentException.class,
      () -> GatewayConfig.fromEnv(Map.of("TOKENBUS_GATEWAY_DRAIN_SECONDS", "4", "TOKENBUS_GATEWAY_DRAIN_SPREAD_MS", "3000")));
    assertTrue(spread.getMessage().contains("half the drain deadline"), spread.getMessage());
    assertThrows(IllegalArgumentException.class, () -> GatewayConfig.fromEnv(Map.of("TOKENBUS_GATEWAY_DRAIN_SECONDS", "-1")));
    assertEquals(3000, GatewayConfig.fromEnv(Map.of()).toJson().getJsonObject("drain").getLong("spreadMs"), "logged at start");
  }

  @Test
  void compressionIsOffOnOrALevelAndIsLogged() {
    GatewayConfig.Compression d = GatewayConfig.fromEnv(Map.of()).compression();
    assertEquals(GatewayConfig.Compression.DEFAULT, d);
    GatewayConfig on = GatewayConfig.fromEnv(Map.of("TOKENBUS_HTTP_COMPRESSION", "on", "TOKENBUS_WEBSOCKET_COMPRESSION", "3"));
    assertEquals(new GatewayConfig.Compression(6, 3), on.compression());
    assertEquals("gzip/deflate level 6", on.toJson().getJsonObject("compression").getString("http"), "logged at start");
    assertEquals("permessage-deflate level 3", on.toJson().getJsonObject("compression").getString("websocket"));
    GatewayConfig off = GatewayConfig.fromEnv(Map.of("TOKENBUS_HTTP_COMPRESSION", "off", "TOKENBUS_WEBSOCKET_COMPRESSION", "OFF"));
    assertEquals(new GatewayConfig.Compression(0, 0), off.compression());
    assertEquals("off", off.toJson().getJsonObject("compression").getString("websocket"));
    IllegalArgumentException bad = assertThrows(IllegalArgumentException.class,
      () -> GatewayConfig.fromEnv(Map.of("TOKENBUS_HTTP_COMPRESSION", "fast")));
    assertTrue(bad.getMessage().contains("TOKENBUS_HTTP_COMPRESSION"), bad.getMessage());
    assertThrows(IllegalArgumentException.class, () -> GatewayConfig.fromEnv(Map.of("TOKENBUS_WEBSOCKET_COMPRESSION", "10")));
  }
}
