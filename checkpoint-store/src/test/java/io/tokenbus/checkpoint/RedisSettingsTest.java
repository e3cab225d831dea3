package io.tokenbus.checkpoint;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tokenbus.testing.RedisProcess;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** TOKENBUS_REDIS_MODE and friends, and the durability check at start on real servers. */
class RedisSettingsTest {
  private static final Path LOGS = Path.of("target", "redis");

  @Test
  void modeEndpointsAndMasterNameComeFromTheEnvironmentAndAreValidated() {
    CheckpointConfig d = CheckpointConfig.fromEnv(Map.of(), "redis://127.0.0.1:6379");
    assertEquals(CheckpointConfig.RedisMode.STANDALONE, d.redisMode());
    CheckpointConfig c = CheckpointConfig.fromEnv(Map.of("TOKENBUS_REDIS_MODE", "Cluster",
      "REDIS_URL", "redis://a:7000, redis://b:7000,redis://c:7000"), null);
    assertEquals(CheckpointConfig.RedisMode.CLUSTER, c.redisMode());
    assertEquals(List.of("redis://a:7000", "redis://b:7000", "redis://c:7000"), c.redisEndpoints());
    CheckpointConfig s = CheckpointConfig.fromEnv(Map.of("TOKENBUS_REDIS_MODE", "sentinel",
      "REDIS_URL", "redis://:secret@s1:26379,redis://s2:26379", "TOKENBUS_REDIS_MASTER_NAME", "mymaster"), null);
    assertEquals("mymaster", s.masterName());
    assertEquals("redis://***@s1:26379,redis://s2:26379", s.toJson().getString("redisUrl"), "passwords never logged");
    assertEquals("sentinel", s.toJson().getString("redisMode"));

    assertThrows(IllegalArgumentException.class, () -> CheckpointConfig.fromEnv(Map.of("TOKENBUS_REDIS_MODE", "sentinel",
      "REDIS_URL", "redis://s1:26379"), null), "sentinel needs a master name");
    assertThrows(IllegalArgumentException.class, () -> CheckpointConfig.fromEnv(Map.of(
      "REDIS_URL", "redis://a:1,redis://b:1"), null), "several endpoints need cluster or sentinel");
    assertThrows(IllegalArgumentException.class, () -> CheckpointConfig.fromEnv(Map.of("TOKENBUS_REDIS_MODE", "replicated",
      "REDIS_URL", "redis://a:1"), null));
    assertThrows(IllegalArgumentException.class, () -> CheckpointConfig.fromEnv(Map.of("TOKENBUS_REDIS_MASTER_NAME", "m",
      "REDIS_URL", "redis://a:1"), null), "a master name without sentinel mode is a mistake");
    assertThrows(IllegalArgumentException.class, () -> CheckpointConfig.fromEnv(Map.of("TOKENBUS_REDIS_MODE", "cluster",
      "REDIS_URL", "a:7000,b:7000"), null), "endpoints are URLs");
  }

  @Test
  void anEvictingPolicyAndNoAofAreReported() throws Exception {
    try (RedisProcess r = RedisProcess.start(RedisProcess.Persistence.NONE, LOGS,
      List.of("--maxmemory-policy", "volatile-lru")); StoreFixture f = StoreFixture.start(r.url(), c -> c)) {
      RedisSettings.Verdict v = f.verticle.redisSettings();
      assertEquals("volatile-lru", v.maxmemoryPolicy());
      assertTrue(v.evicts(), "our keys carry TTLs: volatile-* evicts them too");
      assertEquals("no", v.appendonly());
      assertNull(v.unchecked());
    }
  }

  @Test
  void aRedisThatRefusesConfigGetIsReportedUncheckedAndTheStoreStillStarts() throws Exception {
    try (RedisProcess r = RedisProcess.start(RedisProcess.Persistence.AOF_EVERYSEC, LOGS,
      List.of("--rename-command", "CONFIG", "")); StoreFixture f = StoreFixture.start(r.url(), c -> c)) {
      assertNotNull(f.verticle.redisSettings().unchecked());
      String id = f.open();
      assertTrue(f.append(id, StoreFixture.chunks(id, 1, 1), null).accepted());
    }
  }
}
