package io.tokenbus.runtime;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.spi.cluster.ClusterManager;

/**
 * A started Vert.x instance, the Prometheus registry its metrics (and ours) go to, and its cluster manager (null on a
 * local node).
 */
public record Node(Vertx vertx, PrometheusMeterRegistry registry, ClusterManager clusterManager) {
  /** A non-clustered node with its own registry; what tests deploy verticles on. */
  public static Node local() {
    return Nodes.start(NodeOptions.local()).await();
  }

  public static PrometheusMeterRegistry newRegistry() {
    return new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  }

  public Future<Void> close() {
    return vertx.close().onComplete(ar -> registry.close());
  }
}
