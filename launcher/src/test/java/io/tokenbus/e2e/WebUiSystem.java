package io.tokenbus.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.tokenbus.checkpoint.CheckpointConfig;
import io.tokenbus.checkpoint.CheckpointVerticle;
import io.tokenbus.gateway.GatewayConfig;
import io.tokenbus.gateway.GatewayVerticle;
import io.tokenbus.runtime.Node;
import io.tokenbus.testing.TestRedis;
import io.tokenbus.worker.AgentWorkerVerticle;
import io.tokenbus.worker.WorkerConfig;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.function.Function;

/**
 * The whole system in this JVM for the browser tests: a real Redis, the checkpoint store, one worker and one gateway
 * on a free port; and its HTTP API as a client outside the browser uses it.
 */
final class WebUiSystem implements AutoCloseable {
  final TestRedis redis;
  final Node node;
  /** The main gateway's configuration; its port is the one bound at the first start (asked for as 0). */
  GatewayConfig gateway;
  private final WorkerConfig worker;
  private String gatewayId;
  private String workerId;

  /** @param worker the worker's configuration, given the node's Vert.x (where a fake provider can listen first) */
  static WebUiSystem start(Function<Vertx, WorkerConfig> worker, GatewayConfig gateway) {
    TestRedis redis = TestRedis.start();
    Node node = Node.local();
    node.vertx().deployVerticle(new CheckpointVerticle(CheckpointConfig.defaults(redis.url()), node.registry())).await();
    WebUiSystem system = new WebUiSystem(redis, node, gateway, worker.apply(node.vertx()));
    system.startWorker();
    system.startGateway();
    return system;
  }

  private WebUiSystem(TestRedis redis, Node node, GatewayConfig gateway, WorkerConfig worker) {
    this.redis = redis;
    this.node = node;
    this.gateway = gateway;
    this.worker = worker;
  }

  /** Deploys the worker (again, after {@link #stopWorker}) with the same configuration. */
  void startWorker() {
    workerId = node.vertx().deployVerticle(new AgentWorkerVerticle(worker, node.registry())).await();
  }

  /** Undeploys the worker: submissions are then refused {@code no_worker}. */
  void stopWorker() {
    node.vertx().undeploy(workerId).await();
  }

  int port() {
    return gateway.port();
  }

  /** Deploys the gateway again (after {@link #stopGateway}) on the same port. */
  void startGateway() {
    Deployed d = deployGateway(gateway);
    gatewayId = d.id();
    gateway = gateway.withPort(d.port());
  }

  void stopGateway() {
    node.vertx().undeploy(gatewayId).await();
  }

  /** A gateway deployed on this node, and the port it listens on. */
  record Deployed(String id, int port) {}

  /**
   * One more gateway on this node (same registry and bus), e.g. with tighter limits; undeploy it with its id. Port 0
   * binds a free port: one picked beforehand and bound later can be taken meanwhile by another process' connection.
   */
  Deployed deployGateway(GatewayConfig config) {
    GatewayVerticle v = new GatewayVerticle(config, node.registry());
    String id = node.vertx().deployVerticle(v).await();
    return new Deployed(id, v.actualPort());
  }

  void undeploy(String deploymentId) {
    node.vertx().undeploy(deploymentId).await();
  }

  HttpResponse<String> http(String method, String path, String token, String body) throws Exception {
    return http(port(), method, path, token, body);
  }

  static HttpResponse<String> http(int port, String method, String path, String token, String body) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path));
    if (token != null) {
      b.header("authorization", "Bearer " + token);
    }
    b.method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
    if (body != null) {
      b.header("content-type", "application/json");
    }
    return HttpClient.newHttpClient().send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  /** Submits over HTTP (any backend); returns {jobId, streamToken}. */
  JsonObject submit(JsonObject request) throws Exception {
    HttpResponse<String> r = http("POST", "/api/jobs", null, request.encode());
    assertEquals(202, r.statusCode(), r.body());
    return new JsonObject(r.body());
  }

  /** The stored chunks of a job, in order, every page. */
  JsonArray storedChunks(String jobId, String token) throws Exception {
    return storedChunks(port(), jobId, token);
  }

  static JsonArray storedChunks(int port, String jobId, String token) throws Exception {
    JsonArray all = new JsonArray();
    for (boolean more = true; more; ) {
      JsonObject page = new JsonObject(http(port, "GET", "/api/jobs/" + jobId + "/chunks?after=" + all.size(), token, null).body());
      all.addAll(page.getJsonArray("chunks"));
      more = page.getBoolean("hasMore", false);
    }
    return all;
  }

  /** The job's whole output as stored: what a page must show. */
  String storedText(String jobId, String token) throws Exception {
    return text(storedChunks(jobId, token));
  }

  static String text(JsonArray chunks) {
    StringBuilder sb = new StringBuilder();
    chunks.forEach(c -> sb.append(((JsonObject) c).getString("chunk")));
    return sb.toString();
  }

  @Override
  public void close() {
    node.close().await();
    redis.close();
  }
}
