package io.tokenbus.launcher;

import io.tokenbus.checkpoint.CheckpointConfig;
import io.tokenbus.checkpoint.CheckpointVerticle;
import io.tokenbus.gateway.GatewayConfig;
import io.tokenbus.gateway.GatewayVerticle;
import io.tokenbus.runtime.ClusterPeers;
import io.tokenbus.runtime.Env;
import io.tokenbus.runtime.ManagementConfig;
import io.tokenbus.runtime.ManagementServer;
import io.tokenbus.runtime.Node;
import io.tokenbus.runtime.NodeOptions;
import io.tokenbus.runtime.Nodes;
import io.tokenbus.worker.AgentWorkerVerticle;
import io.tokenbus.worker.WorkerConfig;
import io.vertx.core.internal.logging.Logger;
import io.vertx.core.internal.logging.LoggerFactory;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Starts tokenbus services in this JVM. With no options: everything on one node (the embedded default), Redis from the
 * bundled binary unless {@code REDIS_URL} is set. With {@code --role} and {@code --cluster}: one service per process,
 * joined by Hazelcast. Service settings come from the environment (see README, "Configuration").
 */
@Command(name = "tokenbus", mixinStandardHelpOptions = true, description = "Streams LLM output to browsers, token by token.")
public final class TokenbusLauncher implements Callable<Integer> {
  private static final Logger log = LoggerFactory.getLogger(TokenbusLauncher.class);

  enum Role { gateway, worker, checkpoint }

  @Option(names = "--role", split = ",", description = "services to run here: ${COMPLETION-CANDIDATES} (default: all)")
  List<Role> roles = List.of(Role.values());

  @Option(names = "--cluster", description = "join a Hazelcast cluster (TOKENBUS_CLUSTER_* settings)")
  boolean cluster;

  public static void main(String[] args) {
    System.exit(new CommandLine(new TokenbusLauncher()).execute(args));
  }

  /** Every setting this process uses, read and checked before anything starts. */
  private record Settings(ManagementConfig management, NodeOptions node, CheckpointConfig checkpoint, WorkerConfig worker,
                          GatewayConfig gateway, int embeddedRedisPort) {}

  /**
   * @param bundledRedis whether the bundled Redis will run here: the store's address is then set once it does
   * @throws IllegalArgumentException naming the setting that is wrong
   */
  private Settings settings(Map<String, String> env, EnumSet<Role> here, boolean bundledRedis) {
    ManagementConfig mc = ManagementConfig.fromEnv(env);
    GatewayConfig g = here.contains(Role.gateway) ? GatewayConfig.fromEnv(env) : null;
    if (g != null && mc.port() != 0 && mc.port() == g.port()) {
      throw new IllegalArgumentException("TOKENBUS_MANAGEMENT_PORT and TOKENBUS_HTTP_PORT are both " + mc.port()
        + ": metrics and health need a port of their own");
    }
    return new Settings(mc, NodeOptions.fromEnv(env, cluster),
      here.contains(Role.checkpoint) ? CheckpointConfig.fromEnv(env, bundledRedis ? "redis://127.0.0.1" : null) : null,
      here.contains(Role.worker) ? WorkerConfig.fromEnv(env) : null, g,
      Env.integer(env, "TOKENBUS_EMBEDDED_REDIS_PORT", 0));
  }

  @Override
  public Integer call() throws Exception {
    Map<String, String> env = System.getenv();
    EnumSet<Role> here = EnumSet.copyOf(roles);
    String redisUrl = env.get("REDIS_URL");
    boolean bundledRedis = here.contains(Role.checkpoint) && (redisUrl == null || redisUrl.isBlank());
    Settings settings;
    try {
      settings = settings(env, here, bundledRedis);
    } catch (IllegalArgumentException e) {
      System.err.println("tokenbus: configuration refused, nothing started: " + e.getMessage());
      return 2;
    }
    EmbeddedRedis embedded = null;
    CheckpointConfig checkpoint = settings.checkpoint();
    if (bundledRedis) {
      embedded = EmbeddedRedis.start(settings.embeddedRedisPort());
      checkpoint = checkpoint.withRedis(checkpoint.redisMode(), embedded.url(), checkpoint.masterName());
      log.info("started the bundled Redis at " + embedded.url() + " (set REDIS_URL to use your own)");
    }
    ManagementConfig mc = settings.management();
    GatewayConfig g = settings.gateway();
    Node node = Nodes.start(settings.node()).await();
    // First, so that liveness answers while the services start (not ready until they all have).
    ManagementServer management = ManagementServer.start(node.vertx(), node.registry(), mc).await();
    if (here.contains(Role.checkpoint)) {
      CheckpointVerticle store = new CheckpointVerticle(checkpoint, node.registry());
      management.readiness(store);
      node.vertx().deployVerticle(store).await();
    }
    String workerId = null;
    if (here.contains(Role.worker)) {
      AgentWorkerVerticle worker = new AgentWorkerVerticle(settings.worker(), node.registry());
      management.readiness(worker);
      workerId = node.vertx().deployVerticle(worker).await();
    }
    String gatewayId = null;
    String managementAt = "management on port " + management.actualPort();
    if (g != null) {
      if (!env.containsKey("TOKENBUS_TOKEN_SECRET") && cluster) {
        log.warn("TOKENBUS_TOKEN_SECRET is not set: stream tokens from this gateway are valid on this gateway only");
      }
      GatewayVerticle gateway = new GatewayVerticle(g, node.registry());
      management.readiness(gateway);
      if (cluster && !(here.contains(Role.worker) && here.contains(Role.checkpoint))) {
        management.readiness(new ClusterPeers(node)); // what it serves needs the other nodes
      }
      gatewayId = node.vertx().deployVerticle(gateway).await();
      management.started();
      System.out.println("tokenbus is running: open http://localhost:" + gateway.actualPort() + "/ (" + managementAt + ")");
    } else {
      management.started();
      System.out.println("tokenbus " + here + " is running (" + managementAt + ")");
    }
    EmbeddedRedis redis = embedded;
    List<String> drainFirst = java.util.stream.Stream.of(workerId, gatewayId).filter(java.util.Objects::nonNull).toList();
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      // SIGTERM: the worker drains first, while the store, the bus and the gateways it writes through still run; then
      // the gateway sends its clients elsewhere (TOKENBUS_GATEWAY_DRAIN_SECONDS) while the bus still feeds them.
      for (String id : drainFirst) {
        node.vertx().undeploy(id).await();
      }
      node.close().await();
      if (redis != null) {
        redis.close();
      }
    }));
    Thread.currentThread().join();
    return 0;
  }
}
