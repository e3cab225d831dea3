package io.tokenbus.worker.backend;

import io.tokenbus.worker.WorkerConfig;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.internal.logging.Logger;
import io.vertx.core.internal.logging.LoggerFactory;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;

/**
 * Builds the worker's backends from its configuration. The local generator is always there (backend {@code local});
 * configured backends are added; with none configured, an Ollama answering on localhost:11434 becomes the default.
 */
public final class BackendFactory {
  private static final Logger log = LoggerFactory.getLogger(BackendFactory.class);
  static final String PROBE_URL = "http://localhost:11434";

  private BackendFactory() {}

  public static Future<Backends> create(Vertx vertx, WorkerConfig config) {
    List<ModelBackend> all = new ArrayList<>();
    all.add(new LocalGeneratorBackend(vertx, config.localTokensPerSecond(), config.localMaxTokens()));
    for (BackendConfig b : config.backends()) {
      all.add(of(vertx, b, config.maxConcurrentJobs()));
    }
    Future<String> defaultName;
    if (!config.backends().isEmpty()) {
      defaultName = Future.succeededFuture(config.defaultBackend() != null ? config.defaultBackend() : config.backends().get(0).name());
    } else if (config.probeOllama()) {
      defaultName = probeOllama(vertx).map(model -> {
        if (model == null) {
          return LocalGeneratorBackend.NAME;
        }
        BackendConfig found = new BackendConfig(BackendConfig.OLLAMA, BackendConfig.OLLAMA, PROBE_URL, model, null, 2000, 120_000, 1);
        all.add(of(vertx, found, config.maxConcurrentJobs()));
        log.info("found Ollama at " + PROBE_URL + " serving " + model + "; it is the default backend");
        return found.name();
      });
    } else {
      defaultName = Future.succeededFuture(LocalGeneratorBackend.NAME);
    }
    return defaultName.map(name -> {
      Backends backends = new Backends(all, name);
      backends.all().forEach((n, b) -> log.info("backend '" + n + "' serves model " + b.defaultModel()
        + (n.equals(name) ? " (default)" : "")));
      return backends;
    });
  }

  static ModelBackend of(Vertx vertx, BackendConfig b, int maxConnections) {
    return BackendConfig.OLLAMA.equals(b.kind()) ? new OllamaBackend(vertx, b, maxConnections)
      : new OpenAiCompatibleBackend(vertx, b, maxConnections);
  }

  /** The first model of an Ollama on localhost, or null when none answers quickly. Never fails. */
  static Future<String> probeOllama(Vertx vertx) {
    HttpClient client = vertx.createHttpClient(new HttpClientOptions().setConnectTimeout(300));
    return client.request(HttpMethod.GET, 11434, "localhost", "/api/tags")
      .compose(req -> req.idleTimeout(1000).send())
      .compose(resp -> resp.statusCode() == 200 ? resp.body() : Future.failedFuture("HTTP " + resp.statusCode()))
      .map(body -> {
        JsonArray models = new JsonObject(body).getJsonArray("models", new JsonArray());
        return models.isEmpty() ? null : models.getJsonObject(0).getString("name");
      })
      .otherwise((String) null)
      .eventually(client::close);
  }
}
