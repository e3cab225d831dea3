package io.tokenbus.runtime;

import io.vertx.core.json.JsonObject;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * How a tokenbus JVM joins the world: alone, or as a Hazelcast cluster member on {@code clusterHost} finding peers
 * by TCP/IP {@code clusterMembers} or, on Kubernetes, by the DNS name of a headless service.
 */
public record NodeOptions(boolean clustered, String clusterName, String clusterHost, List<String> clusterMembers,
                          int hazelcastPort, String kubernetesServiceDns, boolean metrics, int eventLoops,
                          int failureDetectionSeconds, boolean nativeTransport) {

  public NodeOptions {
    if (failureDetectionSeconds < 2) {
      throw new IllegalArgumentException("TOKENBUS_CLUSTER_FAILURE_SECONDS must be at least 2");
    }
  }

  public static NodeOptions local() {
    return new NodeOptions(false, "tokenbus", "127.0.0.1", List.of("127.0.0.1"), 5701, null, true, 0, 10, true);
  }

  public static NodeOptions clusteredLoopback() {
    return new NodeOptions(true, "tokenbus", "127.0.0.1", List.of("127.0.0.1"), 5701, null, true, 0, 10, true);
  }

  public NodeOptions withClusterName(String name) {
    return new NodeOptions(clustered, name, clusterHost, clusterMembers, hazelcastPort, kubernetesServiceDns, metrics, eventLoops,
      failureDetectionSeconds, nativeTransport);
  }

  /** Reads {@code TOKENBUS_CLUSTER}, {@code TOKENBUS_CLUSTER_NAME}, {@code TOKENBUS_CLUSTER_HOST},
   *  {@code TOKENBUS_CLUSTER_MEMBERS} (comma separated), {@code TOKENBUS_HAZELCAST_PORT}, {@code TOKENBUS_K8S_SERVICE_DNS},
   *  {@code TOKENBUS_EVENT_LOOPS} (default: half the cores, at least 1; 0: Vert.x's two per core),
   *  {@code TOKENBUS_CLUSTER_FAILURE_SECONDS} (a member silent this long is removed, and no cluster operation waits
   *  longer than this; default 10), {@code TOKENBUS_NATIVE_TRANSPORT} (Netty's epoll on Linux x86-64 and ARM64,
   *  default true; NIO where it cannot load). */
  public static NodeOptions fromEnv(Map<String, String> env, boolean clusteredByDefault) {
    NodeOptions d = local();
    String members = env.getOrDefault("TOKENBUS_CLUSTER_MEMBERS", "127.0.0.1");
    return new NodeOptions(
      Env.flag(env, "TOKENBUS_CLUSTER", clusteredByDefault),
      env.getOrDefault("TOKENBUS_CLUSTER_NAME", d.clusterName()),
      env.getOrDefault("TOKENBUS_CLUSTER_HOST", d.clusterHost()),
      Arrays.stream(members.split(",")).map(String::trim).filter(s -> !s.isEmpty()).toList(),
      Env.integer(env, "TOKENBUS_HAZELCAST_PORT", 5701),
      env.get("TOKENBUS_K8S_SERVICE_DNS"),
      true,
      Env.integer(env, "TOKENBUS_EVENT_LOOPS", defaultEventLoops()),
      Env.integer(env, "TOKENBUS_CLUSTER_FAILURE_SECONDS", d.failureDetectionSeconds()),
      Env.flag(env, "TOKENBUS_NATIVE_TRANSPORT", true));
  }

  /**
   * Half the cores: each service is one verticle, so more loops buy nothing, and on a 2-core box one loop shared by
   * the services left the other core to Redis, GC and clients: p99 2.8 ms instead of 5 ms (docs/benchmarks.md).
   */
  static int defaultEventLoops() {
    return Math.max(1, Runtime.getRuntime().availableProcessors() / 2);
  }

  public JsonObject toJson() {
    return new JsonObject().put("clustered", clustered).put("clusterName", clusterName).put("clusterHost", clusterHost)
      .put("clusterMembers", clusterMembers).put("hazelcastPort", hazelcastPort)
      .put("kubernetesServiceDns", kubernetesServiceDns).put("eventLoops", eventLoops)
      .put("failureDetectionSeconds", failureDetectionSeconds).put("nativeTransport", nativeTransport);
  }
}
