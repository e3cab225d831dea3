package io.tokenbus.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tokenbus.events.JobIds;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The v1 HTTP contract: shapes, bad input, auth. */
class HttpApiTest {
  private static Fixture f;

  @BeforeAll
  static void start() {
    f = Fixture.start(Fixture.fastWorker(), Fixture.gateway());
  }

  @AfterAll
  static void stop() {
    f.close();
  }

  private HttpResponse<Buffer> post(String path, String body) {
    return f.web.post(path).putHeader("content-type", "application/json").sendBuffer(Buffer.buffer(body)).await();
  }

  private static void assertError(HttpResponse<Buffer> r, int status, String code) {
    assertEquals(status, r.statusCode(), r.bodyAsString());
    assertTrue(r.getHeader("content-type").startsWith("application/json"));
    JsonObject b = r.bodyAsJsonObject();
    assertEquals(code, b.getString("error"), b.encode());
    assertTrue(b.getString("message") != null && !b.getString("message").isBlank());
  }

  @Test
  void submitAnswers202WithIdAndToken() {
    HttpResponse<Buffer> r = post("/api/jobs", new JsonObject().put("prompt", "hello").put("batch", 4).encode());
    assertEquals(202, r.statusCode());
    JsonObject b = r.bodyAsJsonObject();
    assertTrue(JobIds.valid(b.getString("jobId")));
    assertTrue(b.getString("jobId").length() >= 22, "at least 128 random bits");
    assertTrue(b.getString("streamToken").startsWith("v1."));
    assertEquals("queued", b.getString("state"));
    assertEquals("tokenbus-local", b.getString("model"));
  }

  @Test
  void badBodiesAre400WithACode() {
    assertError(post("/api/jobs", "{not json"), 400, "invalid_json");
    assertError(post("/api/jobs", "[1,2]"), 400, "invalid_json");
    assertError(post("/api/jobs", ""), 400, "invalid_json");
    assertError(post("/api/jobs", "{}"), 400, "invalid_request");
    assertError(post("/api/jobs", "{\"prompt\":\"\"}"), 400, "invalid_request");
    assertError(post("/api/jobs", "{\"prompt\":7}"), 400, "invalid_request");
    assertError(post("/api/jobs", new JsonObject().put("prompt", "x".repeat(32769)).encode()), 400, "invalid_request");
    assertError(post("/api/jobs", "{\"prompt\":\"p\",\"type\":\"poem\"}"), 400, "invalid_request");
    assertError(post("/api/jobs", "{\"prompt\":\"p\",\"batch\":0}"), 400, "invalid_request");
    assertError(post("/api/jobs", "{\"prompt\":\"p\",\"batch\":65}"), 400, "invalid_request");
    assertError(post("/api/jobs", "{\"prompt\":\"p\",\"priority\":\"now\"}"), 400, "invalid_request");
    assertError(post("/api/jobs", "{\"prompt\":\"p\",\"backend\":\"nope\"}"), 400, "invalid_request");
    var r = f.web.post("/api/jobs").putHeader("content-type", "text/plain").sendBuffer(Buffer.buffer("{\"prompt\":\"p\"}")).await();
    assertError(r, 400, "invalid_request");
  }

  @Test
  void tooLargeBodyIs413() {
    String big = new JsonObject().put("prompt", "p").put("pad", "x".repeat(f.gatewayConfig.maxBodyBytes() + 10)).encode();
    assertError(post("/api/jobs", big), 413, "payload_too_large");
  }

  @Test
  void readsNeedTheJobsToken() {
    JsonObject job = f.submit("auth");
    String id = job.getString("jobId");
    for (String path : new String[] {"/api/jobs/" + id, "/api/jobs/" + id + "/chunks?after=0", "/api/jobs/" + id + "/events"}) {
      assertError(f.web.get(path).send().await(), 401, "unauthorized");
      assertError(f.web.get(path).bearerTokenAuthentication("v1.1.bogus").send().await(), 403, "forbidden");
      String otherJobsToken = f.submit("other").getString("streamToken");
      assertError(f.web.get(path).bearerTokenAuthentication(otherJobsToken).send().await(), 403, "forbidden");
    }
    assertError(f.web.post("/api/jobs/" + id + "/cancel").send().await(), 401, "unauthorized");
    var ok = f.web.get("/api/jobs/" + id).bearerTokenAuthentication(job.getString("streamToken")).send().await();
    assertEquals(200, ok.statusCode());
    assertEquals(id, ok.bodyAsJsonObject().getString("jobId"));
    assertEquals("auth", ok.bodyAsJsonObject().getString("prompt"), "a token holder opening the job by link sees its prompt");
    assertEquals("ask", ok.bodyAsJsonObject().getString("type"));
    var viaQuery = f.web.get("/api/jobs/" + id + "?token=" + job.getString("streamToken")).send().await();
    assertEquals(200, viaQuery.statusCode());
  }

  @Test
  void unknownJobIs404() {
    String id = f.randomJobId();
    String token = f.tokens.issue(id);
    assertError(f.web.get("/api/jobs/" + id).bearerTokenAuthentication(token).send().await(), 404, "not_found");
    assertError(f.web.get("/api/jobs/" + id + "/chunks").bearerTokenAuthentication(token).send().await(), 404, "not_found");
    assertError(f.web.get("/api/jobs/" + id + "/events").bearerTokenAuthentication(token).send().await(), 404, "not_found");
    assertError(f.web.post("/api/jobs/" + id + "/cancel").bearerTokenAuthentication(token).send().await(), 404, "not_found");
    assertError(f.web.get("/api/nothing-here").send().await(), 404, "not_found");
  }

  @Test
  void badAfterIs400() {
    JsonObject job = f.submit("after");
    var r = f.web.get("/api/jobs/" + job.getString("jobId") + "/chunks?after=-3").bearerTokenAuthentication(job.getString("streamToken")).send().await();
    assertError(r, 400, "invalid_request");
    var r2 = f.web.get("/api/jobs/" + job.getString("jobId") + "/chunks?after=abc").bearerTokenAuthentication(job.getString("streamToken")).send().await();
    assertError(r2, 400, "invalid_request");
  }

  @Test
  void statusAndChunksAfterCompletion() {
    JsonObject job = f.submit("complete me");
    String id = job.getString("jobId");
    String token = job.getString("streamToken");
    try (SseClient sse = f.sse("/api/jobs/" + id + "/events?token=" + token, null)) {
      SseClient.Event e;
      do {
        e = sse.next();
      } while (!e.event().startsWith("job:completed"));
    }
    JsonObject status = f.web.get("/api/jobs/" + id).bearerTokenAuthentication(token).send().await().bodyAsJsonObject();
    assertEquals("completed", status.getString("state"));
    assertEquals(30L, status.getLong("lastSequence"));
    JsonObject chunks = f.web.get("/api/jobs/" + id + "/chunks?after=25").bearerTokenAuthentication(token).send().await().bodyAsJsonObject();
    assertEquals(30L, chunks.getLong("lastSequence"));
    assertEquals("completed", chunks.getString("state"));
    assertEquals(5, chunks.getJsonArray("chunks").size());
    assertEquals(26L, chunks.getJsonArray("chunks").getJsonObject(0).getLong("sequence"));
  }

  @Test
  void healthAndMetricsAreOnTheManagementPortOnly() {
    assertEquals(200, f.mgmt.get("/health/live").send().await().statusCode());
    var ready = f.mgmt.get("/health/ready").send().await();
    assertEquals(200, ready.statusCode(), ready.bodyAsString());
    var checks = ready.bodyAsJsonObject().getJsonArray("checks").stream()
      .map(c -> ((JsonObject) c).getString("id")).toList();
    assertTrue(checks.containsAll(java.util.List.of("started", "checkpoint-store", "worker", "redis")), checks.toString());
    var m = f.mgmt.get("/metrics").send().await();
    assertEquals(200, m.statusCode());
    assertTrue(m.bodyAsString().contains("tokenbus_gateway_open_streams"));
    // The public port: no metrics, no readiness details; a bodiless ping for the web UI's offline detection.
    assertEquals(404, f.web.get("/metrics").send().await().statusCode());
    assertEquals(404, f.web.get("/health/ready").send().await().statusCode());
    var ping = f.web.get("/api/ping").send().await();
    assertEquals(204, ping.statusCode());
    assertEquals("no-store", ping.getHeader("cache-control"));
    assertEquals(204, f.web.get("/health/live").send().await().statusCode(), "pages loaded before the upgrade probe it");
  }

  @Test
  void pageIsServedAtRoot() {
    var r = f.web.get("/").send().await();
    assertEquals(200, r.statusCode());
    assertTrue(r.bodyAsString().contains("<html"));
  }
}
