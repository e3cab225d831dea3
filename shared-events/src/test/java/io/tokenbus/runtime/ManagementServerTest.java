package io.tokenbus.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.micrometer.core.instrument.Counter;
import io.vertx.core.Promise;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.healthchecks.Status;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The management listener: metrics of the node's registry, liveness, readiness from the services' checks. */
class ManagementServerTest {
  private Node node;
  private ManagementServer management;
  private HttpClient http;

  @BeforeEach
  void start() {
    node = Node.local();
    management = ManagementServer.start(node.vertx(), node.registry(), new ManagementConfig("127.0.0.1", 0, 300)).await();
    http = node.vertx().createHttpClient();
  }

  @AfterEach
  void stop() {
    node.close().await();
  }

  private record Answer(int status, String body) {}

  private Answer get(String path) {
    return http.request(HttpMethod.GET, management.actualPort(), "127.0.0.1", path)
      .compose(r -> r.send().compose(resp -> resp.body().map(b -> new Answer(resp.statusCode(), b.toString()))))
      .await();
  }

  private static Readiness check(String name, java.util.function.Consumer<Promise<Status>> body) {
    return new Readiness() {
      @Override
      public String readinessName() {
        return name;
      }

      @Override
      public void readiness(Promise<Status> status) {
        body.accept(status);
      }
    };
  }

  @Test
  void servesTheNodesRegistryAsPrometheusText() {
    Counter.builder("tokenbus_test_things").register(node.registry()).increment(3);
    Answer a = get("/metrics");
    assertEquals(200, a.status());
    assertTrue(a.body().contains("tokenbus_test_things_total 3.0"), a.body());
    assertTrue(a.body().contains("jvm_memory_used_bytes"), "JVM meters of the node");
  }

  @Test
  void liveAtOnceReadyOnlyOnceStartedAndEveryCheckIsUp() {
    AtomicBoolean storeUp = new AtomicBoolean(true);
    management.readiness(check("store", p -> p.complete(storeUp.get() ? Status.OK() : Status.KO())));
    assertEquals(200, get("/health/live").status(), "alive while services start");
    Answer starting = get("/health/ready");
    assertEquals(503, starting.status(), "not ready before started()");
    assertTrue(starting.body().contains("services starting"), starting.body());

    management.started();
    Answer ready = get("/health/ready");
    assertEquals(200, ready.status(), ready.body());
    assertEquals("UP", new JsonObject(ready.body()).getString("status"));

    storeUp.set(false);
    Answer down = get("/health/ready");
    assertEquals(503, down.status());
    assertTrue(down.body().contains("\"id\":\"store\",\"status\":\"DOWN\""), down.body());
    assertEquals(200, get("/health/live").status(), "a store outage is no reason to restart the node");
  }

  @Test
  void aCheckThatDoesNotAnswerInTimeIsDown() {
    management.readiness(check("silent", p -> {}));
    management.started();
    long t0 = System.nanoTime();
    Answer a = get("/health/ready");
    assertEquals(503, a.status());
    assertTrue(a.body().contains("no answer within 300 ms"), a.body());
    long ms = (System.nanoTime() - t0) / 1_000_000;
    assertTrue(ms >= 250 && ms < 2_000, "answered after " + ms + " ms, timeout 300 ms");
  }

  @Test
  void aCheckThatThrowsIsDown() {
    management.readiness(check("broken", p -> { throw new IllegalStateException("boom"); }));
    management.started();
    Answer a = get("/health/ready");
    assertEquals(503, a.status());
    assertTrue(a.body().contains("boom"), a.body());
  }

  @Test
  void nothingElseIsServed() {
    assertEquals(404, get("/").status());
    assertEquals(404, get("/api/jobs").status());
  }

  @Test
  void aTakenPortFailsWithTheSettingToChange() {
    var e = assertThrows(Exception.class, () -> ManagementServer.start(node.vertx(), node.registry(),
      new ManagementConfig("127.0.0.1", management.actualPort(), 2000)).await());
    assertTrue(e.getMessage().contains("TOKENBUS_MANAGEMENT_PORT"), e.getMessage());
  }

  @Test
  void configFromTheEnvironmentIsValidated() {
    assertEquals(ManagementConfig.defaults(), ManagementConfig.fromEnv(Map.of()));
    assertEquals(9090, ManagementConfig.defaults().port());
    assertEquals(0, ManagementConfig.fromEnv(Map.of("TOKENBUS_MANAGEMENT_PORT", "0")).port());
    assertEquals(new ManagementConfig("127.0.0.1", 9100, 500), ManagementConfig.fromEnv(Map.of("TOKENBUS_MANAGEMENT_HOST",
      "127.0.0.1", "TOKENBUS_MANAGEMENT_PORT", "9100", "TOKENBUS_MANAGEMENT_CHECK_TIMEOUT_MS", "500")));
    for (String bad : new String[] {"-1", "65536", "ninety"}) {
      var e = assertThrows(IllegalArgumentException.class,
        () -> ManagementConfig.fromEnv(Map.of("TOKENBUS_MANAGEMENT_PORT", bad)), bad);
      assertTrue(e.getMessage().contains("TOKENBUS_MANAGEMENT_PORT"), e.getMessage());
    }
    assertThrows(IllegalArgumentException.class, () -> ManagementConfig.fromEnv(Map.of("TOKENBUS_MANAGEMENT_CHECK_TIMEOUT_MS", "0")));
    assertThrows(IllegalArgumentException.class, () -> ManagementConfig.fromEnv(Map.of("TOKENBUS_MANAGEMENT_HOST", " ")));
  }
}
