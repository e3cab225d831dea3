package io.tokenbus.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.tokenbus.gateway.auth.StreamTokens;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** A gateway mid-rotation ({@code TOKENBUS_TOKEN_SECRET=new,old}) streams to holders of tokens signed by the old key. */
class TokenRotationTest {
  private static final byte[] OLD = "old-secret-0123456789abcdef".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] NEW = "new-secret-0123456789abcdef".getBytes(StandardCharsets.US_ASCII);
  private static Fixture f;

  @BeforeAll
  static void start() {
    f = Fixture.start(Fixture.fastWorker(), Fixture.gateway().withSecrets(List.of(NEW, OLD)));
  }

  @AfterAll
  static void stop() {
    f.close();
  }

  private static String signedBy(byte[] key, String jobId) {
    return new StreamTokens(key, Duration.ofHours(1), Clock.systemUTC()).issue(jobId);
  }

  @Test
  void anSseStreamOpenedWithAnOldKeyTokenRunsToTheEndAndNewTokensAreSignedByTheNewKey() {
    JsonObject job = f.submit("rotate");
    String jobId = job.getString("jobId");
    // What this gateway issues verifies with the new key alone, i.e. once the old key is dropped.
    new StreamTokens(NEW, Duration.ofHours(1), Clock.systemUTC()).verify(jobId, job.getString("streamToken"));
    try (SseClient sse = f.sse("/api/jobs/" + jobId + "/events?token=" + signedBy(OLD, jobId), null)) {
      assertEquals(200, sse.status, sse.body);
      SseClient.Event e;
      do {
        e = sse.next();
      } while (!e.event().startsWith("job:") || "job:progress".equals(e.event()));
      assertEquals("job:completed", e.event());
    }
    byte[] unknown = "some-other-key-0123456789ab".getBytes(StandardCharsets.US_ASCII);
    var r = f.web.get("/api/jobs/" + jobId).bearerTokenAuthentication(signedBy(unknown, jobId)).send().await();
    assertEquals(403, r.statusCode());
    assertEquals("forbidden", r.bodyAsJsonObject().getString("error"));
  }
}
