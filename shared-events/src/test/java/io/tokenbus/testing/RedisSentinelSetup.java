package io.tokenbus.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A primary, one replica and three sentinels (quorum 2, down-after 1 s) on free loopback ports, from Debian's
 * redis-server and redis-sentinel. {@link RedisTools#require} skips the test without them (fails under CI=true).
 * {@link #primary()}/{@link #replica()} are the processes as started (after a failover the replica is the master).
 */
public final class RedisSentinelSetup implements AutoCloseable {
  public static final String MASTER_NAME = "tbmaster";
  private final RedisProcess primary;
  private final RedisProcess replica;
  private final List<Process> sentinels = new ArrayList<>();
  private final List<Integer> sentinelPorts = new ArrayList<>();

  private RedisSentinelSetup(RedisProcess primary, RedisProcess replica) {
    this.primary = primary;
    this.replica = replica;
  }

  public static RedisSentinelSetup start(Path logDir) throws IOException {
    String sentinel = RedisTools.require("redis-sentinel", "redis-sentinel");
    RedisTools.require("redis-server", "redis-server");
    RedisProcess primary = RedisProcess.start(RedisProcess.Persistence.AOF_EVERYSEC, logDir);
    RedisSentinelSetup s = null;
    try {
      RedisProcess replica = RedisProcess.start(RedisProcess.Persistence.AOF_EVERYSEC, logDir,
        List.of("--replicaof", "127.0.0.1", String.valueOf(primary.port())));
      s = new RedisSentinelSetup(primary, replica);
      s.await("replica in sync", () -> String.valueOf(replica.cli("INFO", "replication")).contains("master_link_status:up"));
      for (int i = 0; i < 3; i++) {
        int port = TestRedis.freePort();
        Path dir = Files.createTempDirectory(logDir.toAbsolutePath(), "sentinel-");
        Path conf = dir.resolve("sentinel.conf");
        Files.writeString(conf, String.join("\n",
          "port " + port, "bind 127.0.0.1", "protected-mode no", "dir " + dir,
          "sentinel monitor " + MASTER_NAME + " 127.0.0.1 " + primary.port() + " 2",
          "sentinel down-after-milliseconds " + MASTER_NAME + " 1000",
          "sentinel failover-timeout " + MASTER_NAME + " 5000",
          "sentinel parallel-syncs " + MASTER_NAME + " 1", ""));
        s.sentinels.add(new ProcessBuilder(sentinel, conf.toString()).redirectErrorStream(true)
          .redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve("sentinel.log").toFile())).start());
        s.sentinelPorts.add(port);
      }
      for (int port : s.sentinelPorts) {
        // each sentinel knows the replica and the two other sentinels: a failover can be agreed on
        s.await("sentinel " + port + " sees the replica and 2 other sentinels", () -> {
          String info = String.valueOf(RedisProcess.cli(port, "INFO", "sentinel"));
          return info.contains("slaves=1,sentinels=3");
        });
      }
      return s;
    } catch (IOException | RuntimeException e) {
      if (s != null) {
        s.close();
      } else {
        primary.close();
      }
      throw e;
    }
  }

  public RedisProcess primary() {
    return primary;
  }

  public RedisProcess replica() {
    return replica;
  }

  /** The sentinels, comma-separated, as REDIS_URL takes them in sentinel mode. */
  public String sentinelUrls() {
    return String.join(",", sentinelPorts.stream().map(p -> "redis://127.0.0.1:" + p).toList());
  }

  /** The port of the master the sentinels name now. */
  public int masterPort() throws IOException {
    Object r = RedisProcess.cli(sentinelPorts.get(0), "SENTINEL", "get-master-addr-by-name", MASTER_NAME);
    return Integer.parseInt(String.valueOf(((List<?>) r).get(1)));
  }

  public interface Check {
    boolean ok() throws IOException;
  }

  /** Waits up to 30 s for {@code check}. */
  public void await(String what, Check check) throws IOException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (true) {
      try {
        if (check.ok()) {
          return;
        }
      } catch (IOException | RedisProcess.RedisError notYet) {
        // not listening yet
      }
      if (System.nanoTime() > deadline) {
        throw new IOException("not within 30 s: " + what);
      }
      RedisProcess.sleep(50);
    }
  }

  @Override
  public void close() {
    for (Process p : sentinels) {
      p.destroyForcibly();
      try {
        p.waitFor(10, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    replica.close();
    primary.close();
  }
}
