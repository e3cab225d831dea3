package io.tokenbus.runtime;

import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.internal.logging.Logger;
import io.vertx.core.internal.logging.LoggerFactory;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.healthchecks.HealthChecks;
import io.vertx.ext.healthchecks.Status;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.healthchecks.HealthCheckHandler;
import io.vertx.micrometer.PrometheusScrapingHandler;

/**
 * The operator listener every tokenbus node serves, whatever its roles, on {@link ManagementConfig#port()} (never
 * the gateway's public port):
 * <ul>
 *   <li>{@code GET /metrics}: Prometheus text of the node's registry (Vert.x, JVM and tokenbus meters);</li>
 *   <li>{@code GET /health/live}: 200 while this listener's event loop answers; a liveness probe restarts a node
 *       that stops answering, nothing else (a node waiting for Redis or the cluster is alive, only not ready);</li>
 *   <li>{@code GET /health/ready}: 200 when every registered {@link Readiness} is up and the launcher has deployed
 *       every service ({@link #started()}), 503 otherwise, with each check's status in the JSON body.</li>
 * </ul>
 * It starts before the services so that liveness answers while they start (a checkpoint store waiting for Redis
 * must not be killed for it), and reports not ready until {@link #started()}.
 */
public final class ManagementServer {
  private static final Logger log = LoggerFactory.getLogger(ManagementServer.class);
  /** Readiness check that is down until every service of the node is deployed. */
  public static final String STARTED = "started";

  private final Vertx vertx;
  private final ManagementConfig config;
  private final HealthChecks ready;
  private final HttpServer server;
  private volatile boolean started;

  private ManagementServer(Vertx vertx, ManagementConfig config, PrometheusMeterRegistry registry) {
    this.vertx = vertx;
    this.config = config;
    this.ready = HealthChecks.create(vertx)
      .register(STARTED, p -> p.complete(started ? Status.OK() : Status.KO(new JsonObject().put("reason", "services starting"))));
    HealthChecks live = HealthChecks.create(vertx).register("event-loop", p -> p.complete(Status.OK()));
    Router router = Router.router(vertx);
    router.get("/metrics").handler(PrometheusScrapingHandler.create(registry));
    router.get("/health/live").handler(HealthCheckHandler.createWithHealthChecks(live));
    router.get("/health/ready").handler(HealthCheckHandler.createWithHealthChecks(ready));
    this.server = vertx.createHttpServer(new HttpServerOptions().setHost(config.host()).setPort(config.port())
      .setHttp2ClearTextEnabled(false)).requestHandler(router);
  }

  /** Starts the listener; fails if the port is taken. */
  public static Future<ManagementServer> start(Vertx vertx, PrometheusMeterRegistry registry, ManagementConfig config) {
    ManagementServer m = new ManagementServer(vertx, config, registry);
    return m.server.listen().recover(e -> Future.failedFuture(new IllegalStateException("management listener on "
        + config.host() + ":" + config.port() + " did not start (" + e.getMessage() + "): set TOKENBUS_MANAGEMENT_PORT"
        + " to a free port, 0 for any", e)))
      .map(s -> {
      log.info("management listening on http://" + ("0.0.0.0".equals(config.host()) ? "localhost" : config.host()) + ":"
        + s.actualPort() + "/metrics, /health/live, /health/ready " + config.toJson().encode());
      return m;
    });
  }

  /**
   * Adds a service's check to {@code /health/ready}. A check that throws, fails or has not answered within the
   * configured timeout reads as down (503 with the reason), the same as one that answers KO.
   */
  public ManagementServer readiness(Readiness service) {
    long timeout = config.checkTimeoutMs();
    ready.register(service.readinessName(), timeout * 2, outer -> {
      Promise<Status> p = Promise.promise();
      long timer = vertx.setTimer(timeout, id -> p.tryComplete(Status.KO(new JsonObject()
        .put("reason", "no answer within " + timeout + " ms"))));
      p.future().onComplete(ar -> {
        vertx.cancelTimer(timer);
        outer.tryComplete(ar.succeeded() ? ar.result() : Status.KO(new JsonObject().put("reason", String.valueOf(ar.cause()))));
      });
      try {
        service.readiness(p);
      } catch (RuntimeException e) {
        p.tryComplete(Status.KO(new JsonObject().put("reason", e.toString())));
      }
    });
    return this;
  }

  /** Every service of the node is deployed: from now on readiness is the registered checks alone. */
  public void started() {
    started = true;
  }

  public int actualPort() {
    return server.actualPort();
  }

  public Future<Void> close() {
    return server.close();
  }
}
