package io.tokenbus.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tokenbus.events.Addresses;
import io.tokenbus.events.JobRequest;
import io.tokenbus.events.internal.JobAssignment;
import io.tokenbus.worker.WorkerConfig;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/** Cancel over HTTP and the bridge (and when no worker holds the job); rate and concurrency limits. */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class CancelAndLimitsTest {
  private static Fixture f;

  @BeforeAll
  static void start() {
    // Slow and long, so jobs are surely still running when cancelled; few slots, so limits are reachable.
    WorkerConfig slow = WorkerConfig.defaults().withLocalGenerator(20, 2000).withMaxConcurrentJobs(4);
    f = Fixture.start(slow, Fixture.gateway().withSubmitsPerMinute(12));
  }

  @AfterAll
  static void stop() {
    f.close();
  }

  private static String events(JsonObject job) {
    return "/api/jobs/" + job.getString("jobId") + "/events?token=" + job.getString("streamToken");
  }

  @Test
  void cancelOverHttpEndsTheSseStreamWithCancelledWithinASecondAndNoChunkAfter() {
    JsonObject job = f.submit("cancel me over http");
    try (SseClient sse = f.sse(events(job), null)) {
      List<Long> seqs = new ArrayList<>();
      while (seqs.size() < 3) {
        SseClient.Event e = sse.next();
        if ("model:chunk".equals(e.event())) {
          seqs.add(e.data().getLong("sequence"));
        }
      }
      long t0 = System.nanoTime();
      var r = f.web.post("/api/jobs/" + job.getString("jobId") + "/cancel").bearerTokenAuthentication(job.getString("streamToken")).send().await();
      assertEquals(202, r.statusCode());
      SseClient.Event e;
      while (true) {
        e = sse.next();
        if ("model:chunk".equals(e.event())) {
          seqs.add(e.data().getLong("sequence"));
        } else if (!"job:progress".equals(e.event())) {
          break;
        }
      }
      long ms = (System.nanoTime() - t0) / 1_000_000;
      assertEquals("job:cancelled", e.event());
      assertTrue(ms < 1000, "job:cancelled after " + ms + " ms");
      assertEquals(seqs.get(seqs.size() - 1), e.data().getLong("lastSequence"));
      assertEquals(SseClient.END, sse.next(), "nothing after the terminal event");
    }
    JsonObject state = f.web.get("/api/jobs/" + job.getString("jobId")).bearerTokenAuthentication(job.getString("streamToken"))
      .send().await().bodyAsJsonObject();
    assertEquals("cancelled", state.getString("state"));
  }

  @Test
  void cancelOverTheBridgeAnswersOkAndNoChunkFollowsTheCancelledEvent() {
    JsonObject job = f.submit("cancel me over the bridge");
    String jobId = job.getString("jobId");
    String token = job.getString("streamToken");
    try (SockJsClient c = f.sockJs()) {
      c.register(Addresses.chunk(jobId), token);
      c.register(Addresses.status(jobId), token);
      long last = 0;
      while (last < 3) {
        JsonObject fr = c.next();
        if (Addresses.chunk(jobId).equals(fr.getString("address"))) {
          last = fr.getJsonObject("body").getLong("sequence");
        }
      }
      long t0 = System.nanoTime();
      String reply = c.request(Addresses.JOB_CANCEL, new JsonObject().put("jobId", jobId).put("token", token));
      JsonObject status = null;
      boolean ok = false;
      while (status == null) {
        JsonObject fr = c.next();
        if (reply.equals(fr.getString("address"))) {
          ok = fr.getJsonObject("body").getBoolean("ok");
        } else if (Addresses.chunk(jobId).equals(fr.getString("address"))) {
          assertEquals(last + 1, fr.getJsonObject("body").getLong("sequence"));
          last++;
        } else if (Addresses.status(jobId).equals(fr.getString("address"))) {
          status = fr.getJsonObject("body");
        }
      }
      long ms = (System.nanoTime() - t0) / 1_000_000;
      assertEquals("job:cancelled", status.getString("type"));
      assertTrue(ms < 1000, "job:cancelled after " + ms + " ms");
      assertEquals(last, status.getLong("lastSequence"));
      JsonObject after = c.poll(500);
      if (after != null && !ok) {
        assertEquals(reply, after.getString("address"), "only the cancel reply may still come");
        ok = after.getJsonObject("body").getBoolean("ok");
        after = c.poll(500);
      }
      assertTrue(ok);
      assertNull(after, "no frame after job:cancelled");
    }
  }

  @Test
  void cancelClosesAJobNoWorkerHolds() {
    String jobId = f.randomJobId();
    f.node.vertx().eventBus().request(Addresses.CHECKPOINT_OPEN, new JobAssignment(jobId, JobRequest.ask("orphan"), 1)).await();
    String token = f.tokens.issue(jobId);
    try (SseClient sse = f.sse("/api/jobs/" + jobId + "/events?token=" + token, null)) {
      var r = f.web.post("/api/jobs/" + jobId + "/cancel").bearerTokenAuthentication(token).send().await();
      assertEquals(202, r.statusCode());
      SseClient.Event e = sse.next();
      assertEquals("job:cancelled", e.event());
      assertEquals(0L, e.data().getLong("lastSequence"));
    }
  }

  @Test
  @Order(Integer.MAX_VALUE) // it spends the client's submission budget
  void concurrencyAndRateLimitsAnswer429() {
    // 4 worker slots; background jobs may take half. Earlier tests' jobs are cancelled, so slots are free.
    List<JsonObject> running = new ArrayList<>();
    running.add(f.submit(new JsonObject().put("prompt", "bg1").put("priority", "background")));
    running.add(f.submit(new JsonObject().put("prompt", "bg2").put("priority", "background")));
    var bg3 = f.web.post("/api/jobs").sendJsonObject(new JsonObject().put("prompt", "bg3").put("priority", "background")).await();
    assertEquals(429, bg3.statusCode(), bg3.bodyAsString());
    assertEquals("too_many_jobs", bg3.bodyAsJsonObject().getString("error"));
    running.add(f.submit("i1"));
    running.add(f.submit("i2"));
    var i3 = f.web.post("/api/jobs").sendJsonObject(new JsonObject().put("prompt", "i3")).await();
    assertEquals(429, i3.statusCode());
    assertEquals("too_many_jobs", i3.bodyAsJsonObject().getString("error"));
    for (JsonObject j : running) {
      f.web.post("/api/jobs/" + j.getString("jobId") + "/cancel").bearerTokenAuthentication(j.getString("streamToken")).send().await();
    }
    int status = 0;
    for (int i = 0; i < 13 && status != 429; i++) {
      status = f.web.post("/api/jobs").sendJsonObject(new JsonObject().put("prompt", "")).await().statusCode();
    }
    var limited = f.web.post("/api/jobs").sendJsonObject(new JsonObject().put("prompt", "x")).await();
    assertEquals(429, limited.statusCode());
    assertEquals("rate_limited", limited.bodyAsJsonObject().getString("error"));
  }
}
