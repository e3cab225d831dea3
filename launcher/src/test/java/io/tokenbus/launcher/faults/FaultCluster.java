package io.tokenbus.launcher.faults;

import io.tokenbus.testing.RedisProcess;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A tokenbus deployment of separate JVMs on 127.0.0.1 (one Hazelcast cluster, named uniquely per test class) over a
 * real Redis: the environment every process shares, the processes started, and their logs under
 * {@code target/fault-logs/<test class>-<time>/}. {@link #close()} kills everything it started (paused ones too).
 */
public final class FaultCluster implements AutoCloseable {
  private final Path logDir;
  private final Map<String, String> env = new HashMap<>();
  private final RedisProcess redis;
  private final List<TokenbusProcess> processes = new ArrayList<>();
  private final AtomicInteger counter = new AtomicInteger();
  private final Thread reaper;

  /**
   * @param extraEnv settings for every process, over the defaults below (e.g. {@code TOKENBUS_LOCAL_TOKENS_PER_SECOND})
   */
  public FaultCluster(Class<?> testClass, RedisProcess.Persistence persistence, Map<String, String> extraEnv) throws IOException {
    logDir = Path.of("target", "fault-logs", testClass.getSimpleName() + "-"
      + LocalDateTime.now().format(DateTimeFormatter.ofPattern("HHmmss"))).toAbsolutePath();
    redis = RedisProcess.start(persistence, logDir);
    env.put("REDIS_URL", redis.url());
    env.put("TOKENBUS_CLUSTER_NAME", "tokenbus-" + testClass.getSimpleName() + "-" + UUID.randomUUID());
    env.put("TOKENBUS_TOKEN_SECRET", Base64.getEncoder().encodeToString(UUID.randomUUID().toString().getBytes(StandardCharsets.UTF_8)));
    env.put("TOKENBUS_SUBMITS_PER_MINUTE", "100000");
    env.put("TOKENBUS_PROBE_OLLAMA", "false");
    env.put("TOKENBUS_IDLE_POLL_MS", "500");
    env.put("TOKENBUS_STORE_OUTAGE_SECONDS", "60");
    env.put("TOKENBUS_REDIS_TIMEOUT_MS", "2000");
    // A Hazelcast port range of its own, every port listed as a member: members started in parallel find each other
    // even while other clusters on this machine hold 5701 and the ports after it.
    int base = hazelcastBase();
    env.put("TOKENBUS_HAZELCAST_PORT", String.valueOf(base));
    env.put("TOKENBUS_CLUSTER_MEMBERS", java.util.stream.IntStream.range(base, base + HAZELCAST_PORTS)
      .mapToObj(p -> "127.0.0.1:" + p).collect(java.util.stream.Collectors.joining(",")));
    env.putAll(extraEnv);
    reaper = new Thread(this::killAll, "fault-cluster-reaper");
    Runtime.getRuntime().addShutdownHook(reaper);
  }

  public RedisProcess redis() {
    return redis;
  }

  public Path logDir() {
    return logDir;
  }

  public Map<String, String> env() {
    return Map.copyOf(env);
  }

  /**
   * Starts one process of {@code role} (checkpoint, worker, gateway); a gateway binds a free HTTP port, or the one in
   * {@code TOKENBUS_HTTP_PORT} of {@code extraEnv} (to restart a killed gateway where its clients expect it).
   */
  public TokenbusProcess launch(String role) throws IOException {
    return launch(role, Map.of());
  }

  public TokenbusProcess launch(String role, Map<String, String> extraEnv) throws IOException {
    Map<String, String> e = new HashMap<>(env);
    e.putAll(extraEnv);
    int port = Integer.parseInt(extraEnv.getOrDefault("TOKENBUS_HTTP_PORT", "0"));
    TokenbusProcess p = TokenbusProcess.launch(role + "-" + counter.incrementAndGet(), role, e, port, logDir);
    synchronized (processes) {
      processes.add(p);
    }
    return p;
  }

  /** Starts several roles at once (they join the cluster in parallel); in the order given. */
  public List<TokenbusProcess> launchAll(String... roles) throws IOException {
    List<CompletableFuture<TokenbusProcess>> all = new ArrayList<>();
    for (String r : roles) {
      all.add(CompletableFuture.supplyAsync(() -> {
        try {
          return launch(r);
        } catch (IOException e) {
          throw new CompletionException(e);
        }
      }));
    }
    List<TokenbusProcess> out = new ArrayList<>();
    for (CompletableFuture<TokenbusProcess> f : all) {
      try {
        out.add(f.join());
      } catch (CompletionException e) {
        throw e.getCause() instanceof IOException io ? io : new IOException(e.getCause());
      }
    }
    return out;
  }

  /** The processes and their logs, for failure messages. */
  public String describe() {
    synchronized (processes) {
      return "redis " + redis.url() + " (logs in " + logDir + "); " + processes;
    }
  }

  private void killAll() {
    synchronized (processes) {
      processes.forEach(p -> {
        if (p.isAlive()) {
          p.kill();
        }
      });
    }
    redis.close();
  }

  @Override
  public void close() {
    killAll();
    try {
      Runtime.getRuntime().removeShutdownHook(reaper);
    } catch (IllegalStateException ignored) {
      // already shutting down
    }
  }

  private static final int HAZELCAST_PORTS = 8;

  /** The first of {@link #HAZELCAST_PORTS} consecutive free ports (checked now; good enough on a test machine). */
  private static int hazelcastBase() {
    for (int attempt = 0; attempt < 50; attempt++) {
      int base = 20_000 + java.util.concurrent.ThreadLocalRandom.current().nextInt(20_000);
      boolean free = true;
      for (int p = base; p < base + HAZELCAST_PORTS && free; p++) {
        try (java.net.ServerSocket s = new java.net.ServerSocket(p, 1, java.net.InetAddress.getLoopbackAddress())) {
          s.setReuseAddress(true);
        } catch (IOException taken) {
          free = false;
        }
      }
      if (free) {
        return base;
      }
    }
    throw new IllegalStateException("no free range of " + HAZELCAST_PORTS + " ports for Hazelcast");
  }
}
