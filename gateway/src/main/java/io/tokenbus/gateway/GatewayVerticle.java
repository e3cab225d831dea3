package io.tokenbus.gateway;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.tokenbus.events.ErrorCode;
import io.tokenbus.events.codec.EventCodecs;
import io.tokenbus.gateway.api.HttpErrors;
import io.tokenbus.gateway.api.JobsApi;
import io.tokenbus.gateway.api.RateLimiter;
import io.tokenbus.gateway.auth.StreamTokens;
import io.tokenbus.gateway.bridge.EventBusBridge;
import io.tokenbus.gateway.drain.Drain;
import io.tokenbus.gateway.jobs.JobService;
import io.tokenbus.gateway.limits.HeaderDeadlines;
import io.tokenbus.gateway.limits.IdleTimeoutPlacement;
import io.tokenbus.gateway.limits.StreamLimits;
import io.tokenbus.gateway.sse.SseEndpoint;
import io.tokenbus.gateway.stream.JobStreamHub;
import io.tokenbus.events.TokenbusException;
import io.tokenbus.events.internal.ReplayRequest;
import io.tokenbus.runtime.Readiness;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.json.JsonObject;
import io.vertx.core.VerticleBase;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.internal.logging.Logger;
import io.vertx.core.internal.logging.LoggerFactory;
import io.vertx.ext.healthchecks.Status;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.handler.BodyHandler;
import io.vertx.ext.web.handler.StaticHandler;
import java.time.Clock;
import java.util.concurrent.TimeUnit;

/**
 * Owns the browser-facing HTTP server: the job API, SSE, the SockJS event-bus bridge, the web UI (metrics and health
 * are on the node's management port, see {@link io.tokenbus.runtime.ManagementServer}). One instance per node: all streams of the node share its event loop and its {@link JobStreamHub}; scale
 * out with more gateway nodes.
 */
public final class GatewayVerticle extends VerticleBase implements Readiness {
  /** A well-formed job id no job has: the store answers not_found when it and Redis work. */
  private static final String READINESS_PROBE_JOB = "readiness-probe-0000";
  /** Sent with the page and every static file (see docs/ui.md). */
  static final String CONTENT_SECURITY_POLICY = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self';"
    + " connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

  private static final Logger log = LoggerFactory.getLogger(GatewayVerticle.class);

  private final GatewayConfig config;
  private final PrometheusMeterRegistry registry;
  private HttpServer server;
  private JobStreamHub hub;
  private EventBusBridge bridge;
  private Drain drain;
  private volatile JobService jobs;

  public GatewayVerticle(GatewayConfig config, PrometheusMeterRegistry registry) {
    this.config = config;
    this.registry = registry;
  }

  @Override
  public Future<?> start() {
    EventCodecs.register(vertx.eventBus());
    StreamTokens tokens = new StreamTokens(config.tokenSecrets(), config.tokenTtl(), Clock.systemUTC());
    JobService jobs = new JobService(vertx, config, tokens);
    this.jobs = jobs;
    GatewayMetrics metrics = new GatewayMetrics(registry);
    hub = new JobStreamHub(vertx, config, jobs, metrics);
    RateLimiter submits = new RateLimiter(config.submitsPerMinute(), 100_000);
    StreamLimits streams = new StreamLimits(config);
    HeaderDeadlines headers = new HeaderDeadlines(vertx, config.connections().headerTimeoutMs());
    Gauge.builder("tokenbus_gateway_open_streams", streams, s -> s.getAsInt()).register(registry);
    Gauge.builder("tokenbus_gateway_anonymous_sockets", streams, StreamLimits::anonymous).register(registry);
    Gauge.builder("tokenbus_gateway_followed_jobs", hub, JobStreamHub::followedJobs).register(registry);
    Gauge.builder("tokenbus_gateway_event_loop_queued_tasks", hub, JobStreamHub::queuedTasks)
      .description("tasks waiting on the gateway's event loop (background streams detach above the bound)").register(registry);
    Gauge.builder("tokenbus_gateway_connections_awaiting_request", headers, HeaderDeadlines::waiting).register(registry);
    for (String t : new String[] {GatewayMetrics.SSE, GatewayMetrics.BRIDGE}) {
      Gauge.builder("tokenbus_gateway_followers", hub, h -> h.followers(t)).tag("transport", t)
        .description("clients following a job on this node").register(registry);
    }

    drain = new Drain(vertx, config.drain());
    Router router = Router.router(vertx);
    router.route().handler(drain::gate); // 503 draining for whatever still reaches a draining node
    router.route("/api/*").handler(ctx -> { // 429s answered over HTTP, by code
      ctx.addEndHandler(ar -> {
        if (ctx.get(HttpErrors.CODE) instanceof ErrorCode code) {
          metrics.answered(ctx.request().path().endsWith("/events") ? GatewayMetrics.SSE : GatewayMetrics.HTTP, code);
        }
      });
      ctx.next();
    });
    router.route("/api/*").handler(BodyHandler.create().setBodyLimit(config.maxBodyBytes()).setHandleFileUploads(false));
    new JobsApi(jobs, submits, streams::client).mount(router);
    streams.mountSse(router, "/api/jobs/:id/events"); // per-address slot, in front of the endpoint
    new SseEndpoint(vertx, config, tokens, hub, streams, drain).mount(router);
    bridge = new EventBusBridge(vertx, config, jobs, hub, submits, streams, drain);
    // Every bridge socket holds a stream slot; the other open slots are SSE responses.
    Gauge.builder("tokenbus_gateway_connections", bridge, b -> streams.getAsInt() - b.sockets()).tag("transport", GatewayMetrics.SSE)
      .description("open streaming connections").register(registry);
    Gauge.builder("tokenbus_gateway_connections", bridge, EventBusBridge::sockets).tag("transport", GatewayMetrics.BRIDGE)
      .description("open streaming connections").register(registry);
    bridge.mount(router);
    // Metrics and health are served on the management port (runtime.ManagementServer), not here. The web UI's
    // client probes this listener when a bridge socket falls silent (docs/ui.md): /api/ping answers 204 and says
    // nothing about the node. /health/live answers the same for pages loaded before the management port existed.
    router.get("/api/ping").handler(GatewayVerticle::ping);
    router.get("/health/live").handler(GatewayVerticle::ping);
    // The page and what it loads: from this origin only. Model output rendered in the page can neither load nor send
    // anything elsewhere (no image beacons, no fetch), and no inline script or style runs.
    router.route("/*").handler(ctx -> {
      ctx.response().putHeader("content-security-policy", CONTENT_SECURITY_POLICY)
        .putHeader("x-content-type-options", "nosniff").putHeader("referrer-policy", "no-referrer");
      ctx.next();
    });
    // Third-party browser code, served from its WebJar (versioned Maven dependency) under /vendor.
    router.route("/vendor/sockjs-client/*").handler(StaticHandler.create("META-INF/resources/webjars/sockjs-client/1.6.1/dist"));
    router.route("/vendor/marked/*").handler(StaticHandler.create("META-INF/resources/webjars/marked/15.0.7/lib"));
    router.route("/*").handler(StaticHandler.create("webroot").setCachingEnabled(false));
    router.route().last().handler(ctx -> ctx.fail(404));
    router.route().failureHandler(HttpErrors::routerFailure);

    // Idle timeout: nothing read or written for this long (streams send heartbeats, so only dead ones are cut).
    // No h2c: browsers never use it, and while Vert.x sniffs for its preface it calls the connection handler only
    // after the first bytes, which would let a connection that sends nothing escape the header deadline.
    // Strict thread mode: this verticle writes its responses on its own event loop only, so Vert.x writes them
    // straight to the channel instead of through a cross-thread queue per connection (4.7 KB of heap per open
    // stream, and a queue hop per SSE event; docs/benchmarks.md). A write from another thread would throw.
    server = vertx.createHttpServer(compression(new HttpServerOptions().setHost(config.host()).setPort(config.port())
      .setMaxWebSocketFrameSize(config.maxBodyBytes()).setMaxWebSocketMessageSize(config.maxBodyBytes())
      .setIdleTimeout((int) config.connections().idleTimeoutMs()).setIdleTimeoutUnit(TimeUnit.MILLISECONDS)
      .setHttp2ClearTextEnabled(false).setStrictThreadMode(true), config.compression()));
    return server.connectionHandler(c -> {
      headers.opened(c);
      IdleTimeoutPlacement.behindTheDecoder(c);
    }).requestHandler(req -> {
      headers.requestArrived(req.connection());
      router.handle(req);
    }).listen()
      .onSuccess(s -> log.info("gateway listening on http://" + ("0.0.0.0".equals(config.host()) ? "localhost" : config.host())
        + ":" + s.actualPort() + "/ " + config.toJson().encode()));
  }

  /**
   * gzip/deflate for HTTP (Netty's compressor deflates each write with a sync flush, so every SSE event leaves at
   * once) and permessage-deflate for websockets. The per-frame extension is refused: no browser offers it any more.
   */
  static HttpServerOptions compression(HttpServerOptions o, GatewayConfig.Compression c) {
    o.setCompressionSupported(c.http()).setPerFrameWebSocketCompressionSupported(false)
      .setPerMessageWebSocketCompressionSupported(c.websocket());
    if (c.http()) {
      o.setCompressionLevel(c.httpLevel());
    }
    if (c.websocket()) {
      o.setWebSocketCompressionLevel(c.websocketLevel());
    }
    return o;
  }

  private static void ping(io.vertx.ext.web.RoutingContext ctx) {
    ctx.response().setStatusCode(204).putHeader("cache-control", "no-store").end();
  }

  /** Ready when a checkpoint store answers through the bus (and so Redis behind it is reachable). */
  @Override
  public String readinessName() {
    return "checkpoint-store";
  }

  @Override
  public void readiness(Promise<Status> status) {
    if (drain != null && drain.draining()) {
      status.complete(Status.KO(new JsonObject().put("reason", "draining")));
      return;
    }
    if (jobs == null) {
      status.complete(Status.KO(new JsonObject().put("reason", "gateway starting")));
      return;
    }
    context.runOnContext(v -> jobs.read(READINESS_PROBE_JOB, 0, ReplayRequest.STATE_ONLY).onComplete(ar -> {
      // An unknown job answered by the store proves the store and Redis are reachable.
      TokenbusException e = ar.failed() ? TokenbusException.from(ar.cause()) : null;
      status.complete(e != null && e.code() == ErrorCode.NOT_FOUND ? Status.OK()
        : Status.KO(new JsonObject().put("code", e == null ? "unexpected_answer" : e.code().id)));
    }));
  }

  public int actualPort() {
    return server.actualPort();
  }

  /**
   * The drain (SIGTERM, undeploy): readiness goes down, the listener closes (new connections are refused, so they go
   * to another gateway), idle keep-alive connections close, every client is told to reconnect elsewhere over the
   * spread, and each connection closes once its last response ended. Completes when no connection is left, or at
   * the deadline, when what is left is closed.
   */
  @Override
  public Future<?> stop() {
    long start = System.nanoTime();
    drain.start();
    return server.shutdown(config.drain().deadlineMs(), TimeUnit.MILLISECONDS).eventually(() -> {
      log.info("gateway drained in " + (System.nanoTime() - start) / 1_000_000 + " ms (deadline "
        + config.drain().deadlineMs() + " ms)");
      drain.close();
      hub.close();
      bridge.close();
      return Future.succeededFuture();
    });
  }
}
