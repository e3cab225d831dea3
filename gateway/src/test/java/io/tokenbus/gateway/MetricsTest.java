package io.tokenbus.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tokenbus.events.Addresses;
import io.tokenbus.testing.Patience;
import io.vertx.core.json.JsonObject;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Issue 10, section 1: after real jobs over SSE and the bridge, a replay, a refused registration and a 429,
 * {@code /metrics} holds the operator series of every service (docs/operations.md) and they moved.
 */
class MetricsTest {
  private static final int SUBMITS_PER_MINUTE = 3;
  private static Fixture f;

  @BeforeAll
  static void start() {
    GatewayConfig d = Fixture.gateway();
    f = Fixture.start(Fixture.fastWorker(), d.withSubmitsPerMinute(SUBMITS_PER_MINUTE));
  }

  @AfterAll
  static void stop() {
    f.close();
  }

  @Test
  void operatorSeriesExistAndMoveAfterRealJobs() {
    // Followers and connections of both transports, on a job that stays open while we look.
    JsonObject silent = f.silentJob();
    try (SseClient sse = f.sse("/api/jobs/" + silent.getString("jobId") + "/events?token=" + silent.getString("streamToken"), null);
         SockJsClient c = f.sockJs()) {
      c.register(Addresses.chunk(silent.getString("jobId")), silent.getString("streamToken"));
      for (String t : List.of("sse", "bridge")) {
        awaitAtLeast("tokenbus_gateway_followers", 1, "transport=\"" + t + "\"");
        awaitAtLeast("tokenbus_gateway_connections", 1, "transport=\"" + t + "\"");
      }
    }
    // A job followed live over SSE.
    JsonObject job = f.submit("metrics over sse");
    String events = "/api/jobs/" + job.getString("jobId") + "/events?token=" + job.getString("streamToken");
    try (SseClient sse = f.sse(events, null)) {
      while (!sse.next().event().startsWith("job:")) {
        // until the terminal event
      }
    }
    // A background job followed live over SSE: its latency is labelled apart from the interactive ones'.
    JsonObject background = f.submit(new JsonObject().put("prompt", "metrics of background").put("priority", "background"));
    try (SseClient sse = f.sse("/api/jobs/" + background.getString("jobId") + "/events?token="
        + background.getString("streamToken"), null)) {
      while (!sse.next().event().startsWith("job:")) {
        // until the terminal event
      }
    }
    // A replay of the finished job from the start: every chunk comes from the store.
    try (SseClient sse = f.sse(events, "0")) {
      while (!sse.next().event().startsWith("job:")) {
        // until the terminal event
      }
    }
    // A job submitted and followed over the bridge; then a registration with a bad token.
    try (SockJsClient c = f.sockJs()) {
      String submitted = c.request(Addresses.JOBS_SUBMIT, new JsonObject().put("prompt", "metrics over the bridge"));
      JsonObject reply = c.next();
      assertEquals(submitted, reply.getString("address"), reply.encode());
      assertEquals("rec", reply.getString("type"), reply.encode());
      String jobId = reply.getJsonObject("body").getString("jobId");
      String token = reply.getJsonObject("body").getString("streamToken");
      c.register(Addresses.chunk(jobId), token);
      c.register(Addresses.status(jobId), token);
      String replay = c.request(Addresses.JOB_REPLAY, new JsonObject().put("jobId", jobId).put("token", token).put("afterSequence", 0));
      BridgeStreamTest.collect(c, jobId, replay);
      c.register(Addresses.chunk(f.randomJobId()), "not-a-token");
      assertEquals("err", c.next().getString("type"));
    }
    // Submissions beyond the rate limit: 429 rate_limited.
    int status = 202;
    for (int i = 0; i < SUBMITS_PER_MINUTE + 1 && status != 429; i++) {
      status = f.web.post("/api/jobs").sendJsonObject(new JsonObject().put("prompt", "limit " + i)).await().statusCode();
    }
    assertEquals(429, status);

    String m = scrape();
    // worker
    assertMoved(m, "tokenbus_worker_time_to_first_token_seconds_count", "backend=\"local\"");
    assertMoved(m, "tokenbus_worker_time_to_first_token_seconds_bucket", "le=\"1.0\"");
    assertMoved(m, "tokenbus_worker_job_tokens_per_second_count");
    assertExists(m, "tokenbus_worker_background_chunk_limit");
    assertMoved(m, "tokenbus_worker_job_duration_seconds_count", "type=\"completed\"");
    assertTrue(value(m, "tokenbus_worker_jobs_ended_total", "type=\"completed\"", "code=\"none\"") >= 2, "two jobs completed");
    assertExists(m, "tokenbus_worker_store_retries_total");
    assertMoved(m, "tokenbus_worker_chunk_store_latency_seconds_count", "priority=\"interactive\"");
    assertMoved(m, "tokenbus_worker_chunk_store_latency_seconds_count", "priority=\"background\"");
    assertMoved(m, "tokenbus_worker_chunk_store_latency_seconds_bucket", "priority=\"interactive\"", "le=\"0.1\"");
    // end to end, inside the system
    assertMoved(m, "tokenbus_gateway_chunk_latency_seconds_count", "transport=\"sse\"");
    assertMoved(m, "tokenbus_gateway_chunk_latency_seconds_count", "transport=\"bridge\"");
    assertMoved(m, "tokenbus_gateway_chunk_latency_seconds_bucket", "transport=\"sse\"", "le=\"0.1\"");
    assertMoved(m, "tokenbus_gateway_chunk_latency_seconds_count", "transport=\"sse\"", "priority=\"interactive\"");
    assertMoved(m, "tokenbus_gateway_chunk_latency_seconds_count", "transport=\"sse\"", "priority=\"background\"");
    assertMoved(m, "tokenbus_gateway_chunk_latency_seconds_count", "transport=\"bridge\"", "priority=\"interactive\"");
    assertMoved(m, "tokenbus_gateway_chunks_written_total", "transport=\"sse\"", "source=\"live\"");
    // gateway
    assertMoved(m, "tokenbus_gateway_replays_total", "transport=\"sse\"");
    assertMoved(m, "tokenbus_gateway_replays_total", "transport=\"bridge\"");
    assertMoved(m, "tokenbus_gateway_replayed_chunks_total", "transport=\"sse\"");
    assertMoved(m, "tokenbus_gateway_replay_seconds_count", "transport=\"sse\"");
    assertMoved(m, "tokenbus_gateway_chunks_written_total", "transport=\"sse\"", "source=\"store\"");
    assertExists(m, "tokenbus_gateway_gap_repairs_total", "kind=\"gap\"");
    assertExists(m, "tokenbus_gateway_gap_repairs_total", "kind=\"idle_poll\"");
    assertExists(m, "tokenbus_gateway_duplicates_suppressed_total");
    assertExists(m, "tokenbus_gateway_overload_episodes_total");
    assertExists(m, "tokenbus_gateway_event_loop_queued_tasks");
    assertExists(m, "tokenbus_gateway_connections", "transport=\"bridge\"");
    assertExists(m, "tokenbus_gateway_followers", "transport=\"bridge\"");
    assertExists(m, "tokenbus_gateway_slow_consumer_disconnects_total", "transport=\"sse\"");
    assertMoved(m, "tokenbus_gateway_registrations_refused_total", "code=\"forbidden\"");
    assertMoved(m, "tokenbus_gateway_too_many_requests_total", "transport=\"http\"", "code=\"rate_limited\"");
    // checkpoint store
    assertMoved(m, "tokenbus_checkpoint_redis_round_trip_seconds_count");
    assertMoved(m, "tokenbus_checkpoint_redis_round_trip_seconds_bucket", "le=\"0.1\"");
    assertExists(m, "tokenbus_checkpoint_queued_commands", "op=\"write\"");
    assertExists(m, "tokenbus_checkpoint_queued_commands", "op=\"read\"");
    assertExists(m, "tokenbus_checkpoint_redis_trips_in_flight");
    assertExists(m, "tokenbus_checkpoint_failures_total", "op=\"write\"", "kind=\"store_unavailable\"");
    assertExists(m, "tokenbus_checkpoint_redis_connection_losses_total");
    assertEquals(1.0, value(m, "tokenbus_checkpoint_redis_up"));
    assertMoved(m, "tokenbus_checkpoint_redis_connections_up");
    assertTrue(value(m, "tokenbus_checkpoint_jobs_closed_total", "type=\"completed\"", "code=\"none\"") >= 2, "two jobs closed");
    // never a job id in a label
    assertTrue(m.lines().noneMatch(l -> l.startsWith("tokenbus_") && l.contains("job_id")), "no job id label");
  }

  /** Polls a gauge: nothing signals that a registration has landed. */
  static void awaitAtLeast(String name, double min, String... labels) {
    Patience.until(() -> value(scrape(), name, labels) >= min);
    assertTrue(value(scrape(), name, labels) >= min, name + Arrays.toString(labels) + " >= " + min);
  }

  static String scrape() {
    var r = f.mgmt.get("/metrics").send().await();
    assertEquals(200, r.statusCode());
    return r.bodyAsString();
  }

  /** Lines of series {@code name} (exactly) whose labels contain every one of {@code labels}. */
  static List<String> series(String body, String name, String... labels) {
    return body.lines().filter(l -> l.startsWith(name + " ") || l.startsWith(name + "{"))
      .filter(l -> Arrays.stream(labels).allMatch(l::contains)).toList();
  }

  /** The sum of the matching series. */
  static double value(String body, String name, String... labels) {
    return series(body, name, labels).stream().mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1))).sum();
  }

  static void assertExists(String body, String name, String... labels) {
    assertTrue(!series(body, name, labels).isEmpty(), name + Arrays.toString(labels) + " is exported");
  }

  static void assertMoved(String body, String name, String... labels) {
    assertExists(body, name, labels);
    assertTrue(value(body, name, labels) > 0, name + Arrays.toString(labels) + " moved");
  }
}
