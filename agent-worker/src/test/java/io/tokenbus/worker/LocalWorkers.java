package io.tokenbus.worker;

import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.tokenbus.checkpoint.CheckpointConfig;
import io.tokenbus.checkpoint.CheckpointVerticle;
import io.tokenbus.runtime.Node;
import io.tokenbus.testing.TestRedis;
import io.tokenbus.worker.backend.Backends;
import io.tokenbus.worker.backend.LocalGeneratorBackend;
import io.vertx.core.Future;
import java.util.List;

/** Workers for tests: the built-in generator only, as {@code w} paces it, and no backend probing at start. */
final class LocalWorkers {
  private LocalWorkers() {}

  static AgentWorkerVerticle verticle(WorkerConfig w, PrometheusMeterRegistry registry) {
    return new AgentWorkerVerticle(w, registry, v -> Future.succeededFuture(new Backends(
      List.of(new LocalGeneratorBackend(v, w.localTokensPerSecond(), w.localMaxTokens())), LocalGeneratorBackend.NAME)));
  }

  /** A node running the real checkpoint store on a fresh Redis and one such worker. */
  record StoreAndWorker(TestRedis redis, Node node) implements AutoCloseable {
    @Override
    public void close() {
      node.close().await();
      redis.close();
    }
  }

  static StoreAndWorker withStore(WorkerConfig w) {
    TestRedis redis = TestRedis.start();
    Node node = Node.local();
    node.vertx().deployVerticle(new CheckpointVerticle(CheckpointConfig.defaults(redis.url()), node.registry())).await();
    node.vertx().deployVerticle(verticle(w, node.registry())).await();
    return new StoreAndWorker(redis, node);
  }
}
