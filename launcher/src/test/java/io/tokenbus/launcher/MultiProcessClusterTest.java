package io.tokenbus.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tokenbus.launcher.faults.FaultCluster;
import io.tokenbus.testing.RedisProcess;
import io.tokenbus.launcher.faults.TokenbusProcess;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.Iterator;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * The services as separate JVM processes joined by Hazelcast on 127.0.0.1: checkpoint store, worker and gateway each
 * in its own. Processes are killed with {@code destroyForcibly} (SIGKILL) mid-stream: a killed gateway's client resumes
 * on a new gateway with Last-Event-ID and gets every remaining chunk exactly once; the job of a killed worker that was
 * the only one (no worker left to take it over, see WorkerTakeoverTest) ends with job:failed {@code worker_lost} once
 * its lease runs out and no worker came within the worker wait (see LoneWorkerTest), and what it streamed stays
 * replayable. Processes, Redis and
 * their logs ({@code target/fault-logs/}) come from the fault-test harness ({@link FaultCluster}).
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class MultiProcessClusterTest {
  private static FaultCluster cluster;
  private static final HttpClient http = HttpClient.newHttpClient();
  private static TokenbusProcess worker;

  @BeforeAll
  static void start() throws Exception {
    cluster = new FaultCluster(MultiProcessClusterTest.class, RedisProcess.Persistence.NONE, Map.of(
      "TOKENBUS_LOCAL_TOKENS_PER_SECOND", "40",
      "TOKENBUS_LOCAL_MAX_TOKENS", "120",
      "TOKENBUS_WORKER_LEASE_SECONDS", "2",
      "TOKENBUS_WORKER_WAIT_SECONDS", "2", // no worker comes back here: do not wait the default 30 s for one
      "TOKENBUS_IDLE_POLL_MS", "300"));
    worker = cluster.launchAll("checkpoint", "worker").get(1);
  }

  @AfterAll
  static void stop() {
    if (cluster != null) {
      cluster.close();
    }
  }

  private static JsonObject submit(int port, String prompt) throws Exception {
    HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/api/jobs"))
      .header("content-type", "application/json").POST(HttpRequest.BodyPublishers.ofString(new JsonObject().put("prompt", prompt).encode()))
      .build(), HttpResponse.BodyHandlers.ofString());
    assertEquals(202, r.statusCode(), r.body());
    return new JsonObject(r.body());
  }

  /** Opens an SSE stream and returns its data lines as they arrive. */
  private static Iterator<String> events(int port, JsonObject job, String lastEventId) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/api/jobs/" + job.getString("jobId")
      + "/events?token=" + job.getString("streamToken")));
    if (lastEventId != null) {
      b.header("Last-Event-ID", lastEventId);
    }
    HttpResponse<java.util.stream.Stream<String>> r = http.send(b.build(), HttpResponse.BodyHandlers.ofLines());
    assertEquals(200, r.statusCode());
    return r.body().filter(l -> l.startsWith("data: ")).map(l -> l.substring(6)).iterator();
  }

  @Test
  @Order(1)
  void gatewayProcessStreamsJobsOfAWorkerProcessAndAnotherGatewayTakesOverAfterAKill() throws Exception {
    TokenbusProcess gateway1 = cluster.launch("gateway");
    int port1 = gateway1.port();
    JsonObject job = submit(port1, "two processes");
    Map<Long, String> chunks = new java.util.TreeMap<>();
    Iterator<String> first = events(port1, job, null);
    while (chunks.size() < 10) {
      JsonObject e = new JsonObject(first.next());
      if ("model:chunk".equals(e.getString("type"))) {
        assertEquals(null, chunks.put(e.getLong("sequence"), e.getString("chunk")), "no duplicate");
      }
    }
    gateway1.kill();

    int port2 = cluster.launch("gateway").port();
    long have = ((java.util.TreeMap<Long, String>) chunks).lastKey();
    Iterator<String> rest = events(port2, job, String.valueOf(have));
    JsonObject terminal = null;
    while (terminal == null) {
      JsonObject e = new JsonObject(rest.next());
      if ("model:chunk".equals(e.getString("type"))) {
        assertEquals(null, chunks.put(e.getLong("sequence"), e.getString("chunk")), "no duplicate after resume");
      } else if (e.getString("type").startsWith("job:") && !"job:progress".equals(e.getString("type"))) {
        terminal = e;
      }
    }
    assertEquals("job:completed", terminal.getString("type"));
    long last = terminal.getLong("lastSequence");
    assertEquals(last, chunks.size());
    assertEquals(1L, ((java.util.TreeMap<Long, String>) chunks).firstKey());
    assertEquals(terminal.getString("result"), String.join("", chunks.values()));
    assertTrue(last >= 100, "the local generator was set to 120 tokens");
  }

  @Test
  @Order(2) // kills the only worker
  void aKilledWorkersJobEndsAsWorkerLostAndKeepsWhatItStreamed() throws Exception {
    int port = cluster.launch("gateway").port();
    JsonObject job = submit(port, "the worker dies");
    Iterator<String> stream = events(port, job, null);
    Map<Long, String> chunks = new java.util.TreeMap<>();
    while (chunks.size() < 5) {
      JsonObject e = new JsonObject(stream.next());
      if ("model:chunk".equals(e.getString("type"))) {
        chunks.put(e.getLong("sequence"), e.getString("chunk"));
      }
    }
    worker.kill();
    JsonObject terminal = null;
    while (terminal == null) {
      JsonObject e = new JsonObject(stream.next());
      if ("model:chunk".equals(e.getString("type"))) {
        assertEquals(null, chunks.put(e.getLong("sequence"), e.getString("chunk")), "no duplicate");
      } else if (!"job:progress".equals(e.getString("type"))) {
        terminal = e;
      }
    }
    assertEquals("job:failed", terminal.getString("type"));
    assertEquals("worker_lost", terminal.getJsonObject("error").getString("code"));
    assertEquals(chunks.size(), terminal.getLong("lastSequence"));
    assertTrue(chunks.size() < 120, "the job did not finish");
    HttpResponse<String> status = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/api/jobs/"
      + job.getString("jobId"))).header("authorization", "Bearer " + job.getString("streamToken")).build(), HttpResponse.BodyHandlers.ofString());
    assertEquals("failed", new JsonObject(status.body()).getString("state"));
  }
}
