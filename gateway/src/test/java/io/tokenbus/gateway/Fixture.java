package io.tokenbus.gateway;

import io.tokenbus.checkpoint.CheckpointConfig;
import io.tokenbus.checkpoint.CheckpointVerticle;
import io.tokenbus.events.JobIds;
import io.tokenbus.gateway.auth.StreamTokens;
import io.tokenbus.runtime.ManagementConfig;
import io.tokenbus.runtime.ManagementServer;
import io.tokenbus.runtime.Node;
import io.tokenbus.testing.Patience;
import io.tokenbus.testing.TestRedis;
import io.tokenbus.worker.AgentWorkerVerticle;
import io.tokenbus.worker.WorkerConfig;
import io.tokenbus.worker.backend.Backends;
import io.tokenbus.worker.backend.LocalGeneratorBackend;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.function.DoublePredicate;

/** The whole system on one Vert.x node with a real Redis, plus HTTP clients: what most gateway tests run against. */
final class Fixture implements AutoCloseable {
  final TestRedis redis;
  final Node node;
  final GatewayConfig gatewayConfig;
  final int port;
  final Vertx clientVertx;
  final WebClient web;
  /** The node's management listener: /metrics, /health/live, /health/ready. */
  final WebClient mgmt;
  final int managementPort;
  final StreamTokens tokens;
  private String gatewayDeployment;

  private Fixture(TestRedis redis, Node node, GatewayConfig gatewayConfig, int port, int managementPort) {
    this.redis = redis;
    this.node = node;
    this.gatewayConfig = gatewayConfig;
    this.port = port;
    this.managementPort = managementPort;
    this.clientVertx = Vertx.vertx();
    this.web = WebClient.create(clientVertx, new WebClientOptions().setDefaultHost("127.0.0.1").setDefaultPort(port));
    this.mgmt = WebClient.create(clientVertx, new WebClientOptions().setDefaultHost("127.0.0.1").setDefaultPort(managementPort));
    this.tokens = new StreamTokens(gatewayConfig.tokenSecret(), Duration.ofHours(1), Clock.systemUTC());
  }

  static WorkerConfig fastWorker() {
    return WorkerConfig.defaults().withLocalGenerator(150, 30);
  }

  static GatewayConfig gateway() {
    return GatewayConfig.defaults().withPort(0);
  }

  static Fixture start(WorkerConfig workerConfig, GatewayConfig gateway) {
    // Closing a fixture must not wait for its jobs to drain (the drain has its own multi-process test).
    WorkerConfig worker = workerConfig.withDrainMs(0);
    TestRedis redis = TestRedis.start();
    Node node = Node.local();
    // Wired as the launcher wires a node: management first, each service's readiness, then started().
    ManagementServer management = ManagementServer.start(node.vertx(), node.registry(), ManagementConfig.loopback()).await();
    CheckpointVerticle store = new CheckpointVerticle(CheckpointConfig.defaults(redis.url()), node.registry());
    AgentWorkerVerticle w = new AgentWorkerVerticle(worker, node.registry(), v -> io.vertx.core.Future.succeededFuture(localBackends(v, worker)));
    GatewayVerticle g = new GatewayVerticle(gateway, node.registry());
    management.readiness(store).readiness(w).readiness(g);
    node.vertx().deployVerticle(store).await();
    node.vertx().deployVerticle(w).await();
    String gatewayId = node.vertx().deployVerticle(g).await();
    management.started();
    Fixture f = new Fixture(redis, node, gateway, g.actualPort(), management.actualPort());
    f.gatewayDeployment = gatewayId;
    return f;
  }

  static Backends localBackends(Vertx v, WorkerConfig worker) {
    return new Backends(List.of(new LocalGeneratorBackend(v, worker.localTokensPerSecond(), worker.localMaxTokens())),
      LocalGeneratorBackend.NAME);
  }

  /** Submits over HTTP and returns the 202 body. */
  JsonObject submit(JsonObject body) {
    var r = web.post("/api/jobs").putHeader("content-type", "application/json").sendJsonObject(body).await();
    if (r.statusCode() != 202) {
      throw new AssertionError("submit answered " + r.statusCode() + " " + r.bodyAsString());
    }
    return r.bodyAsJsonObject();
  }

  JsonObject submit(String prompt) {
    return submit(new JsonObject().put("prompt", prompt));
  }

  String randomJobId() {
    return JobIds.newId(new SecureRandom());
  }

  SockJsClient sockJs() {
    return SockJsClient.connect(clientVertx, port);
  }

  SseClient sse(String path, String lastEventId) {
    return SseClient.connect(clientVertx, port, path, lastEventId);
  }

  /** Connections from distinct loopback addresses count as distinct clients. */
  SseClient sseFrom(String localAddress, String path) {
    return SseClient.connect(clientVertx, port, path, null, localAddress);
  }

  SockJsClient sockJsFrom(String localAddress) {
    return SockJsClient.connect(clientVertx, port, localAddress);
  }

  /** A job the checkpoint store knows but no worker runs: its streams stay open, silent, until it is cancelled. */
  JsonObject silentJob() {
    String jobId = randomJobId();
    node.vertx().eventBus().request(io.tokenbus.events.Addresses.CHECKPOINT_OPEN,
      new io.tokenbus.events.internal.JobAssignment(jobId, io.tokenbus.events.JobRequest.ask("silent"), 1)).await();
    return new JsonObject().put("jobId", jobId).put("streamToken", tokens.issue(jobId));
  }

  /** The sum of a metric's series on the management port (a gauge's value when it has no labels). */
  double gauge(String name) {
    String body = mgmt.get("/metrics").send().await().bodyAsString();
    return body.lines().filter(l -> l.startsWith(name + " ") || l.startsWith(name + "{"))
      .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1))).sum();
  }

  /** Polls {@link #gauge} until it reads {@code expected} or {@link Patience#SECONDS} pass; returns the last reading. */
  double awaitGauge(String name, double expected) {
    return awaitGauge(name, v -> v == expected);
  }

  /**
   * Polls {@link #gauge} (the gateway tells a client nothing of its own counts) until {@code ok} holds or
   * {@link Patience#SECONDS} pass; returns the last reading.
   */
  double awaitGauge(String name, DoublePredicate ok) {
    double[] last = new double[1];
    Patience.until(() -> ok.test(last[0] = gauge(name)));
    return last[0];
  }

  /** Undeploys the gateway as the launcher does on SIGTERM: it drains; completes when it has. */
  io.vertx.core.Future<Void> drainGateway() {
    return node.vertx().undeploy(gatewayDeployment);
  }

  @Override
  public void close() {
    web.close();
    mgmt.close();
    clientVertx.close().await();
    node.close().await();
    redis.close();
  }
}
