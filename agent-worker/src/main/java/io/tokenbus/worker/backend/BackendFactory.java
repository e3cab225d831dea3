package io.tokenbus.worker.backend;

import io.tokenbus.worker.WorkerConfig;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.internal.logging.Logger;
import io.vertx.core.internal.logging.LoggerFactory;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Builds the worker's backends from its configuration. The local generator is always there (backend {@code local});
 * configured backends are added; with none configured (and probing on), an Ollama answering on 127.0.0.1:11434
 * becomes the default with its first model. Logs which backend serves which model.
 */
public final class BackendFactory {
  private static final Logger log = LoggerFactory.getLogger(BackendFactory.class);
  /** Where Ollama listens by default ({@code OLLAMA_HOST}). */
  public static final String OLLAMA_DEFAULT_URL = "http://127.0.0.1:11434";
  static final int PROBE_CONNECT_MS = 300;
  static final int PROBE_ANSWER_MS = 1000;

  private BackendFactory() {}

  public static Future<Backends> create(Vertx vertx, WorkerConfig config) {
    return create(vertx, config, OLLAMA_DEFAULT_URL);
  }

  static Future<Backends> create(Vertx vertx, WorkerConfig config, String probeUrl) {
    List<ModelBackend> all = new ArrayList<>();
    all.add(new LocalGeneratorBackend(vertx, config.localTokensPerSecond(), config.localMaxTokens()));
    for (BackendConfig b : config.backends()) {
      all.add(of(vertx, b, config.maxConcurrentJobs()));
    }
    Future<String> defaultName;
    if (!config.backends().isEmpty()) {
      defaultName = Future.succeededFuture(config.defaultBackend() != null ? config.defaultBackend() : config.backends().get(0).name());
    } else if (config.probeOllama()) {
      defaultName = probeOllama(vertx, probeUrl).map(model -> {
        if (model == null) {
          return LocalGeneratorBackend.NAME;
        }
        BackendConfig found = BackendConfig.withDefaults(BackendConfig.OLLAMA, BackendConfig.OLLAMA, probeUrl, model, null,
          config.maxRetryAfterSeconds());
        all.add(of(vertx, found, config.maxConcurrentJobs()));
        log.info("no backend configured; found Ollama at " + probeUrl + " with model " + model + ", using it by default");
        return found.name();
      });
    } else {
      defaultName = Future.succeededFuture(LocalGeneratorBackend.NAME);
    }
    return defaultName.map(name -> {
      Backends backends = new Backends(all, name);
      backends.all().values().forEach(b -> log.info("backend '" + b.name() + "' serves model " + b.defaultModel()
        + (b instanceof HttpChatBackend h ? " at " + h.config.baseUrl() : "") + (b.name().equals(name) ? " (default)" : "")));
      return backends;
    });
  }

  static ModelBackend of(Vertx vertx, BackendConfig b, int maxConnections) {
    return BackendConfig.OLLAMA.equals(b.kind()) ? new OllamaBackend(vertx, b, maxConnections)
      : new OpenAiCompatibleBackend(vertx, b, maxConnections);
  }

  /**
   * The first model of an Ollama at {@code baseUrl} ({@code GET /api/tags}), or null when none answers quickly or it
   * has no model. Never fails, never blocks: a short connect timeout and a short answer timeout.
   */
  static Future<String> probeOllama(Vertx vertx, String baseUrl) {
    HttpClient client = vertx.createHttpClient(new HttpClientOptions().setConnectTimeout(PROBE_CONNECT_MS));
    // The response is read inside send's callback (on the event loop): chained after it, body() raced the response's
    // end when the caller was not on a Vert.x thread and could wait for ever (eclipse-vertx/vert.x#6038).
    Future<String> model = client.request(new RequestOptions().setMethod(HttpMethod.GET)
        .setAbsoluteURI(baseUrl + "/api/tags").setIdleTimeout(PROBE_ANSWER_MS))
      .compose(req -> req.send().compose(resp -> resp.statusCode() == 200 ? resp.body()
        : Future.failedFuture("HTTP " + resp.statusCode())))
      .timeout(PROBE_CONNECT_MS + PROBE_ANSWER_MS, TimeUnit.MILLISECONDS)
      .map(body -> {
        JsonArray models = new JsonObject(body).getJsonArray("models", new JsonArray());
        if (models.isEmpty()) {
          log.warn("Ollama at " + baseUrl + " has no model (try `ollama pull llama3.2`); not using it");
          return null;
        }
        return models.getJsonObject(0).getString("name");
      })
      .otherwise(e -> {
        log.debug("no Ollama at " + baseUrl + ": " + e.getMessage());
        return null;
      });
    model.onComplete(done -> client.close()); // the start does not wait for the probe's connection to close
    return model;
  }
}
