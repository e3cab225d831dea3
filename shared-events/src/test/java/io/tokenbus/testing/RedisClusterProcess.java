package io.tokenbus.testing;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * A Redis Cluster of {@code n} masters (no replicas) on free loopback ports, built with Debian's redis-server and
 * {@code redis-cli --cluster create}. Needs both binaries: {@link RedisTools#require} skips the test without them
 * (fails under CI=true). Every wait is bounded.
 */
public final class RedisClusterProcess implements AutoCloseable {
  private final List<RedisProcess> nodes;

  private RedisClusterProcess(List<RedisProcess> nodes) {
    this.nodes = nodes;
  }

  public static RedisClusterProcess start(int masters, Path logDir) throws IOException {
    String cli = RedisTools.require("redis-cli", "redis-tools");
    RedisTools.require("redis-server", "redis-server");
    List<RedisProcess> nodes = new ArrayList<>();
    RedisClusterProcess c = new RedisClusterProcess(nodes);
    try {
      Set<Integer> taken = new HashSet<>();
      for (int i = 0; i < masters; i++) {
        int port = RedisProcess.freeClusterPort(taken);
        taken.add(port);
        nodes.add(RedisProcess.start(RedisProcess.Persistence.NONE, logDir, port, List.of("--cluster-enabled", "yes",
          "--cluster-config-file", "nodes-" + port + ".conf", "--cluster-node-timeout", "2000")));
      }
      List<String> cmd = new ArrayList<>(List.of(cli, "--cluster", "create"));
      nodes.forEach(n -> cmd.add("127.0.0.1:" + n.port()));
      cmd.addAll(List.of("--cluster-replicas", "0", "--cluster-yes"));
      Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
      String out;
      try {
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
          p.destroyForcibly();
          throw new IOException("redis-cli --cluster create did not finish in 60 s");
        }
        out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IOException(e);
      }
      if (p.exitValue() != 0) {
        throw new IOException("redis-cli --cluster create failed: " + out);
      }
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      for (RedisProcess n : nodes) {
        while (!String.valueOf(n.cli("CLUSTER", "INFO")).contains("cluster_state:ok")) {
          if (System.nanoTime() > deadline) {
            throw new IOException("cluster not ok in 30 s: " + n.cli("CLUSTER", "INFO"));
          }
          RedisProcess.sleep(50);
        }
      }
      return c;
    } catch (IOException | RuntimeException e) {
      c.close();
      throw e;
    }
  }

  public List<RedisProcess> nodes() {
    return nodes;
  }

  /** The seed nodes, comma-separated, as REDIS_URL takes them in cluster mode. */
  public String urls() {
    return String.join(",", nodes.stream().map(RedisProcess::url).toList());
  }

  @Override
  public void close() {
    nodes.forEach(RedisProcess::close);
  }
}
