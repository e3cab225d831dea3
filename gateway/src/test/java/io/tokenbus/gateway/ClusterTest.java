package io.tokenbus.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.tokenbus.checkpoint.CheckpointConfig;
import io.tokenbus.checkpoint.CheckpointVerticle;
import io.tokenbus.events.Addresses;
import io.tokenbus.runtime.Node;
import io.tokenbus.runtime.NodeOptions;
import io.tokenbus.runtime.Nodes;
import io.tokenbus.testing.TestRedis;
import io.tokenbus.worker.AgentWorkerVerticle;
import io.tokenbus.worker.WorkerConfig;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Two Vert.x nodes joined by Hazelcast on 127.0.0.1: the worker and checkpoint store on one, the gateway on the other,
 * so every chunk crosses the clustered event bus.
 */
class ClusterTest {
  private static TestRedis redis;
  private static Node workerNode;
  private static Node gatewayNode;
  private static Vertx client;
  private static int port;

  @BeforeAll
  static void start() {
    redis = TestRedis.start();
    NodeOptions o = NodeOptions.clusteredLoopback().withClusterName("tokenbus-test-" + UUID.randomUUID());
    workerNode = Nodes.start(o).await();
    gatewayNode = Nodes.start(o).await();
    WorkerConfig w = Fixture.fastWorker().withDrainMs(0);
    workerNode.vertx().deployVerticle(new CheckpointVerticle(CheckpointConfig.defaults(redis.url()), workerNode.registry())).await();
    workerNode.vertx().deployVerticle(new AgentWorkerVerticle(w, workerNode.registry(), v -> io.vertx.core.Future.succeededFuture(Fixture.localBackends(v, w)))).await();
    GatewayVerticle g = new GatewayVerticle(Fixture.gateway(), gatewayNode.registry());
    gatewayNode.vertx().deployVerticle(g).await();
    port = g.actualPort();
    client = Vertx.vertx();
  }

  @AfterAll
  static void stop() {
    client.close().await();
    gatewayNode.close().await();
    workerNode.close().await();
    redis.close();
  }

  private static JsonObject submit(String prompt) {
    WebClient web = WebClient.create(client, new WebClientOptions().setDefaultHost("127.0.0.1").setDefaultPort(port));
    var r = web.post("/api/jobs").sendJsonObject(new JsonObject().put("prompt", prompt)).await();
    assertEquals(202, r.statusCode(), r.bodyAsString());
    return r.bodyAsJsonObject();
  }

  @Test
  void sseStreamsAJobRunOnAnotherNode() {
    JsonObject job = submit("across the cluster");
    try (SseClient sse = SseClient.connect(client, port, "/api/jobs/" + job.getString("jobId") + "/events?token=" + job.getString("streamToken"), null)) {
      List<SseClient.Event> all = SseStreamTest.readToEnd(sse);
      SseClient.Event done = all.get(all.size() - 1);
      assertEquals("job:completed", done.event());
      SseStreamTest.assertDense(all, 1, 30);
      assertEquals(done.data().getString("result"), SseStreamTest.text(all));
    }
  }

  @Test
  void bridgeStreamsAJobRunOnAnotherNodeExactlyOnce() {
    try (SockJsClient c = SockJsClient.connect(client, port)) {
      String submit = c.request(Addresses.JOBS_SUBMIT, new JsonObject().put("prompt", "bridge across the cluster").put("batch", 2));
      JsonObject reply = c.next();
      assertEquals(submit, reply.getString("address"), reply.encode());
      String jobId = reply.getJsonObject("body").getString("jobId");
      String token = reply.getJsonObject("body").getString("streamToken");
      c.register(Addresses.chunk(jobId), token);
      c.register(Addresses.status(jobId), token);
      String replay = c.request(Addresses.JOB_REPLAY, new JsonObject().put("jobId", jobId).put("token", token).put("afterSequence", 0));
      BridgeStreamTest.Received r = BridgeStreamTest.collect(c, jobId, replay);
      assertEquals("job:completed", r.status.getString("type"));
      BridgeStreamTest.assertExactlyOnce(r, 1, r.status.getLong("lastSequence"));
      assertEquals(r.status.getString("result"), r.text());
    }
  }
}
