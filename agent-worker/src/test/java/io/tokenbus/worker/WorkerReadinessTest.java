package io.tokenbus.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tokenbus.checkpoint.CheckpointConfig;
import io.tokenbus.checkpoint.CheckpointVerticle;
import io.tokenbus.events.Addresses;
import io.tokenbus.events.JobIds;
import io.tokenbus.events.JobRequest;
import io.tokenbus.events.StatusEvent;
import io.tokenbus.events.internal.JobAssignment;
import io.tokenbus.runtime.ManagementConfig;
import io.tokenbus.runtime.ManagementServer;
import io.tokenbus.runtime.Node;
import io.tokenbus.testing.Patience;
import io.tokenbus.testing.TestRedis;
import io.vertx.core.Future;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import java.security.SecureRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** A worker's /health/ready on the management port: up while it takes jobs, down from the first moment of a drain. */
class WorkerReadinessTest {
  private TestRedis redis;
  private Node node;
  private WebClient mgmt;

  @BeforeEach
  void start() {
    redis = TestRedis.start();
    node = Node.local();
  }

  @AfterEach
  void stop() {
    if (mgmt != null) {
      mgmt.close();
    }
    node.close().await();
    redis.close();
  }

  private HttpResponse<io.vertx.core.buffer.Buffer> ready() {
    return mgmt.get("/health/ready").send().await();
  }

  @Test
  void aDrainingWorkerIsNotReadyWhileItsJobsFinish() throws Exception {
    ManagementServer management = ManagementServer.start(node.vertx(), node.registry(), ManagementConfig.loopback()).await();
    mgmt = WebClient.create(node.vertx(), new WebClientOptions().setDefaultHost("127.0.0.1").setDefaultPort(management.actualPort()));
    node.vertx().deployVerticle(new CheckpointVerticle(CheckpointConfig.defaults(redis.url()), node.registry())).await();
    // 20 tokens at 10/s: a job that runs for about two seconds.
    WorkerConfig w = WorkerConfig.defaults().withLocalGenerator(10, 20).withDrainMs(30_000);
    AgentWorkerVerticle worker = LocalWorkers.verticle(w, node.registry());
    management.readiness(worker);
    management.started();
    var starting = ready();
    assertEquals(503, starting.statusCode(), "not ready before it consumes jobs");
    assertTrue(starting.bodyAsString().contains("starting"), starting.bodyAsString());
    String deployment = node.vertx().deployVerticle(worker).await();
    assertEquals(200, ready().statusCode());

    String id = JobIds.newId(new SecureRandom());
    JobAssignment a = new JobAssignment(id, JobRequest.ask("drain"), System.currentTimeMillis());
    CompletableFuture<StatusEvent> ended = new CompletableFuture<>();
    node.vertx().eventBus().<Object>consumer(Addresses.status(id), m -> {
      if (m.body() instanceof StatusEvent s) {
        ended.complete(s);
      }
    }).completion().await();
    node.vertx().eventBus().request(Addresses.CHECKPOINT_OPEN, a).await();
    node.vertx().eventBus().request(Addresses.WORKER_RUN, a).await();

    Future<Void> drain = node.vertx().undeploy(deployment); // what SIGTERM does
    // stop() runs on the worker's event loop a moment after the undeploy call: poll, as the kubelet would.
    long t0 = System.nanoTime();
    var draining = ready();
    while (draining.statusCode() == 200 && System.nanoTime() - t0 < 500_000_000L) {
      Thread.sleep(10);
      draining = ready();
    }
    assertEquals(503, draining.statusCode(), "not ready within 500 ms of the drain's start");
    assertTrue(draining.bodyAsString().contains("draining"), draining.bodyAsString());
    assertFalse(drain.isComplete(), "the drain waits for the running job");
    assertEquals(1, worker.runningJobs());
    assertEquals(200, mgmt.get("/health/live").send().await().statusCode(), "draining is not dead");

    assertEquals("completed", ended.get(Patience.SECONDS, TimeUnit.SECONDS).state().wire());
    drain.await();
    assertEquals(503, ready().statusCode());
  }
}
