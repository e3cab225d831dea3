package io.tokenbus.events;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tokenbus.events.internal.AppendRequest;
import io.tokenbus.events.internal.JobSnapshot;
import io.vertx.core.json.JsonObject;
import java.security.SecureRandom;
import java.util.List;
import org.junit.jupiter.api.Test;

class ContractTest {
  private static final String JOB = "abcdefghijklmnop_-12";

  @Test
  void chunkRoundTripsWithTheContractShape() {
    ChunkEvent c = new ChunkEvent(JOB, "Hello", 3, 1700000000000L, new ChunkMetadata(Step.WRITING, "m", 12.5, 2));
    JsonObject j = c.toJson();
    assertEquals("model:chunk", j.getString("type"));
    assertEquals(JOB, j.getString("jobId"));
    assertEquals("Hello", j.getString("chunk"));
    assertEquals(3L, j.getLong("sequence"));
    assertEquals(1700000000000L, j.getLong("timestamp"));
    assertEquals(new JsonObject().put("step", "writing").put("model", "m").put("tokens_per_sec", 12.5).put("tokens", 2),
      j.getJsonObject("metadata"));
    assertEquals(c, ChunkEvent.fromJson(new JsonObject(j.encode())));
  }

  @Test
  void optionalMetadataIsOmitted() {
    JsonObject j = new ChunkEvent(JOB, "x", 1, 1, null).toJson();
    assertEquals(new JsonObject(), j.getJsonObject("metadata"));
  }

  @Test
  void progressAndStatusRoundTrip() {
    ProgressEvent p = new ProgressEvent(JOB, 40, Step.SEARCHING, null);
    assertEquals(new JsonObject().put("type", "job:progress").put("jobId", JOB).put("progress", 40).put("step", "searching"), p.toJson());
    assertEquals(p, ProgressEvent.fromJson(p.toJson()));
    for (JobState s : List.of(JobState.COMPLETED, JobState.FAILED, JobState.CANCELLED)) {
      StatusEvent e = new StatusEvent(s, JOB, 7, s == JobState.COMPLETED ? "text" : null,
        s == JobState.FAILED ? new JobError("backend_http_error", "boom") : null);
      assertEquals("job:" + s.wire(), e.toJson().getString("type"));
      assertEquals(7L, e.toJson().getLong("lastSequence"));
      assertEquals(e, StatusEvent.fromJson(new JsonObject(e.toJson().encode())));
    }
    assertEquals(new JsonObject().put("code", "backend_http_error").put("message", "boom"),
      new StatusEvent(JobState.FAILED, JOB, 0, null, new JobError("backend_http_error", "boom")).toJson().getJsonObject("error"));
  }

  @Test
  void jobRequestDefaultsAndValidation() {
    JobRequest r = JobRequest.fromJson(new JsonObject().put("prompt", "hi"));
    assertEquals(JobType.ASK, r.type());
    assertEquals(1, r.batch());
    assertEquals(Priority.INTERACTIVE, r.priority());
    assertNull(r.model());
    JobRequest full = JobRequest.fromJson(new JsonObject().put("prompt", "p").put("type", "research").put("model", "m")
      .put("backend", "b").put("batch", 64).put("priority", "background"));
    assertEquals(full, JobRequest.fromJson(full.toJson()));

    assertInvalid(new JsonObject());
    assertInvalid(new JsonObject().put("prompt", ""));
    assertInvalid(new JsonObject().put("prompt", 5));
    assertInvalid(new JsonObject().put("prompt", "x".repeat(32769)));
    assertInvalid(new JsonObject().put("prompt", "p").put("type", "poem"));
    assertInvalid(new JsonObject().put("prompt", "p").put("batch", 0));
    assertInvalid(new JsonObject().put("prompt", "p").put("batch", 65));
    assertInvalid(new JsonObject().put("prompt", "p").put("batch", 1.5));
    assertInvalid(new JsonObject().put("prompt", "p").put("batch", "2"));
    assertInvalid(new JsonObject().put("prompt", "p").put("priority", "urgent"));
    assertInvalid(new JsonObject().put("prompt", "p").put("model", ""));
    JobRequest.fromJson(new JsonObject().put("prompt", "x".repeat(32768)));
  }

  private static void assertInvalid(JsonObject body) {
    TokenbusException e = assertThrows(TokenbusException.class, () -> JobRequest.fromJson(body));
    assertEquals(ErrorCode.INVALID_REQUEST, e.code());
    assertEquals(400, e.code().status);
  }

  @Test
  void jobIdsHaveEnoughEntropyAndMatchThePattern() {
    SecureRandom r = new SecureRandom();
    for (int i = 0; i < 100; i++) {
      String id = JobIds.newId(r);
      assertTrue(JobIds.valid(id), id);
      assertEquals(24, id.length()); // 18 random bytes = 144 bits
    }
    assertTrue(!JobIds.valid("short") && !JobIds.valid("has space in it 0123") && !JobIds.valid("x".repeat(65)));
  }

  @Test
  void badEventsAreRejected() {
    assertThrows(TokenbusException.class, () -> new ChunkEvent(JOB, "x", 0, 1, null));
    assertThrows(TokenbusException.class, () -> new ChunkEvent("bad id", "x", 1, 1, null));
    assertThrows(TokenbusException.class, () -> new ProgressEvent(JOB, 101, null, null));
    assertThrows(TokenbusException.class, () -> new StatusEvent(JobState.RUNNING, JOB, 0, null, null));
    assertThrows(TokenbusException.class, () -> ChunkEvent.fromJson(new JsonObject().put("type", "job:progress")));
  }

  @Test
  void failuresTravelAsReplyExceptionsAndComeBackWithTheirCode() {
    TokenbusException e = new TokenbusException(ErrorCode.TOO_MANY_JOBS, "full");
    TokenbusException back = TokenbusException.from(e.toReply());
    assertEquals(ErrorCode.TOO_MANY_JOBS, back.code());
    assertEquals("full", back.getMessage());
    assertEquals(429, e.toReply().failureCode());
  }

  @Test
  void internalRecordsRoundTrip() {
    ChunkEvent c = new ChunkEvent(JOB, "a", 1, 2, null);
    StatusEvent t = new StatusEvent(JobState.COMPLETED, JOB, 1, "a", null);
    AppendRequest a = new AppendRequest(JOB, List.of(c), t);
    assertEquals(a, AppendRequest.fromJson(a.toJson()));
    JobSnapshot s = new JobSnapshot(JOB, JobState.COMPLETED, 1, 5, "ask", null, List.of(c), t, false, false, null);
    assertEquals(s, JobSnapshot.fromJson(s.toJson()));
    JsonObject replay = s.toReplayJson();
    assertEquals(1L, replay.getLong("lastSequence"));
    assertEquals("completed", replay.getString("state"));
    assertEquals(1, replay.getJsonArray("chunks").size());
  }
}
