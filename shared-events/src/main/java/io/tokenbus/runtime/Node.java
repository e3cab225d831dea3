package io.tokenbus.runtime;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;

/** A started Vert.x instance and the Prometheus registry its metrics (and ours) go to. */
public record Node(Vertx vertx, PrometheusMeterRegistry registry) {
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
