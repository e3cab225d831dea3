package io.tokenbus.worker;

import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
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
}
