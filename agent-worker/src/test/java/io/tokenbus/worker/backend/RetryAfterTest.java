package io.tokenbus.worker.backend;

import static io.tokenbus.worker.backend.Recorded.OPENAI_DONE;
import static io.tokenbus.worker.backend.Recorded.SSE;
import static io.tokenbus.worker.backend.Recorded.openAiChunk;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tokenbus.events.JobError;
import io.tokenbus.testing.Patience;
import io.tokenbus.worker.WorkerConfig;
import io.tokenbus.worker.backend.FakeProvider.End;
import io.tokenbus.worker.backend.FakeProvider.Write;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** A 429 or 5xx with {@code Retry-After}: the retry waits as long as asked, or the job fails at once beyond the budget. */
class RetryAfterTest extends BackendTestBase {
  private static BackendConfig config(String kind, FakeProvider fake) {
    return new BackendConfig(kind, kind, fake.baseUrl(), "m", null, 2000, 5000, 2);
  }

  private static long gapMs(FakeProvider fake) {
    return (fake.arrivedAtNanos.get(1) - fake.arrivedAtNanos.get(0)) / 1_000_000;
  }

  @Test
  void theRetryWaitsTheSecondsTheProviderAsksFor() throws Exception {
    try (FakeProvider fake = new FakeProvider(providers, List.of(
      FakeProvider.error(429, Recorded.OPENAI_429).withHeader("retry-after", "1"),
      FakeProvider.ok(SSE, new Write(openAiChunk("{\"content\":\"ok\"}", "stop")), new Write(OPENAI_DONE), new End())))) {
      Outcome o = Outcome.of(vertx, new OpenAiCompatibleBackend(vertx, config("openai", fake), 2));
      assertEquals("ok", o.result.get(Patience.SECONDS, TimeUnit.SECONDS));
      // Without Retry-After the first retry follows after 200 ms.
      assertTrue(gapMs(fake) >= 1000, "retried " + gapMs(fake) + " ms after the 429");
    }
  }

  @Test
  void aWaitBeyondTheBudgetFailsAtOnceSayingHowLongWasAsked() throws Exception {
    try (FakeProvider fake = new FakeProvider(providers, List.of(
      FakeProvider.error(429, Recorded.OPENAI_429).withHeader("retry-after", "120")))) {
      BackendException e = Outcome.of(vertx, new OpenAiCompatibleBackend(vertx, config("openai", fake), 2)).failure();
      assertEquals(JobError.BACKEND_HTTP_ERROR, e.code());
      assertTrue(e.getMessage().contains("429") && e.getMessage().contains("Rate limit reached")
        && e.getMessage().contains("asked to wait 120 s, more than the 30 s budget"), e.getMessage());
      assertEquals(1, fake.bodies.size(), "not retried");
    }
    // The HTTP-date form, from an Ollama behind a proxy answering 503.
    try (FakeProvider fake = new FakeProvider(providers, List.of(
      FakeProvider.error(503, "text/plain", "Service Unavailable").withHeader("Retry-After", "Fri, 31 Dec 2100 23:59:59 GMT")))) {
      BackendException e = Outcome.of(vertx, new OllamaBackend(vertx, config("ollama", fake), 2)).failure();
      assertEquals(JobError.BACKEND_HTTP_ERROR, e.code());
      assertTrue(e.getMessage().matches("ollama answered HTTP 503: Service Unavailable; the provider asked to wait \\d+ s,"
        + " more than the 30 s budget .*"), e.getMessage());
      assertEquals(1, fake.bodies.size(), "not retried");
    }
  }

  @Test
  void theBudgetIsPerBackendWithAWorkerWideDefault() throws Exception {
    try (FakeProvider fake = new FakeProvider(providers, List.of(
      FakeProvider.error(503, Recorded.OPENAI_500).withHeader("retry-after", "2")))) {
      BackendConfig oneSecond = new BackendConfig("vllm", "openai", fake.baseUrl(), "m", null, 2000, 5000, 2, 1);
      BackendException e = Outcome.of(vertx, new OpenAiCompatibleBackend(vertx, oneSecond, 2)).failure();
      assertTrue(e.getMessage().contains("asked to wait 2 s, more than the 1 s budget"), e.getMessage());
    }
    WorkerConfig w = WorkerConfig.fromEnv(Map.of("TOKENBUS_BACKEND_MAX_RETRY_AFTER_SECONDS", "5",
      "TOKENBUS_OLLAMA_URL", "http://127.0.0.1:11434", "TOKENBUS_PROBE_OLLAMA", "false",
      "TOKENBUS_BACKENDS", "[{\"name\":\"gpt\",\"kind\":\"openai\",\"baseUrl\":\"https://api.openai.com\","
        + "\"model\":\"gpt-4o-mini\",\"maxRetryAfterSeconds\":60}]"));
    assertEquals(5, w.maxRetryAfterSeconds());
    assertEquals(List.of(60, 5), w.backends().stream().map(BackendConfig::maxRetryAfterSeconds).toList());
    assertEquals(BackendConfig.DEFAULT_MAX_RETRY_AFTER_SECONDS, WorkerConfig.fromEnv(Map.of()).maxRetryAfterSeconds());
    assertThrows(IllegalArgumentException.class, () -> WorkerConfig.fromEnv(Map.of("TOKENBUS_BACKEND_MAX_RETRY_AFTER_SECONDS", "-1")));
    assertThrows(IllegalArgumentException.class, () -> WorkerConfig.fromEnv(Map.of("TOKENBUS_BACKEND_MAX_RETRY_AFTER_SECONDS", "soon")));
    assertThrows(IllegalArgumentException.class, () -> WorkerConfig.fromEnv(Map.of("TOKENBUS_BACKENDS",
      "[{\"kind\":\"ollama\",\"baseUrl\":\"http://x\",\"model\":\"m\",\"maxRetryAfterSeconds\":-5}]")));
  }

  @Test
  void theHeaderIsReadAsSecondsOrAnHttpDate() {
    long now = ZonedDateTime.parse("Sun, 06 Nov 1994 08:49:37 GMT", DateTimeFormatter.RFC_1123_DATE_TIME).toInstant().toEpochMilli();
    assertEquals(1000, RetryAfter.millis("1", now));
    assertEquals(0, RetryAfter.millis("0", now));
    assertEquals(120_000, RetryAfter.millis(" 120 ", now));
    assertEquals(1500, RetryAfter.millis("1.5", now));
    assertEquals(90_000, RetryAfter.millis("Sun, 06 Nov 1994 08:51:07 GMT", now));
    assertEquals(90_000, RetryAfter.millis("Sunday, 06-Nov-94 08:51:07 GMT", now), "obsolete RFC 850 form");
    assertEquals(90_000, RetryAfter.millis("Sun Nov  6 08:51:07 1994", now), "obsolete asctime form");
    assertEquals(0, RetryAfter.millis("Sun, 06 Nov 1994 08:00:00 GMT", now), "a date already past: retry now");
    for (String unreadable : new String[] {null, "", "soon", "-3", "1e3", "06 Nov 1994"}) {
      assertEquals(-1, RetryAfter.millis(unreadable, now), "unreadable: our own backoff applies to " + unreadable);
    }
  }
}
