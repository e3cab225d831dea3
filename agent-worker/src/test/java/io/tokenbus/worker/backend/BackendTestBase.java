package io.tokenbus.worker.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tokenbus.events.JobError;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/**
 * What the backend tests against {@link FakeProvider}s share: a Vert.x for the backends and one for the fakes, per test
 * class, and backends pointed at a fake.
 */
abstract class BackendTestBase {
  /** Where the backends (the client side) run. */
  protected static Vertx vertx;
  /** The fakes run on their own Vert.x: their threads never wait for the client's, nor the client's for theirs. */
  protected static Vertx providers;

  @BeforeAll
  static void startVertx() {
    vertx = Vertx.vertx();
    providers = Vertx.vertx();
  }

  @AfterAll
  static void closeVertx() {
    vertx.close().await();
    providers.close().await();
  }

  static BackendConfig config(String kind, String url, long idleMs, int retries) {
    return new BackendConfig(kind, kind, url, "m", "sk-test", 2000, idleMs, retries);
  }

  static OpenAiCompatibleBackend openAi(FakeProvider fake, long idleMs, int retries) {
    return new OpenAiCompatibleBackend(vertx, config("openai", fake.baseUrl(), idleMs, retries), 4);
  }

  static OllamaBackend ollama(FakeProvider fake, long idleMs, int retries) {
    return new OllamaBackend(vertx, config("ollama", fake.baseUrl(), idleMs, retries), 4);
  }

  /** How a generation of {@code b} failed; fails the test if it ended normally. */
  static BackendException failure(ModelBackend b) throws Exception {
    return Outcome.of(vertx, b).failure();
  }

  static void assertHttpError(BackendException e, String... contains) {
    assertEquals(JobError.BACKEND_HTTP_ERROR, e.code(), e.getMessage());
    for (String c : contains) {
      assertTrue(e.getMessage().contains(c), "'" + e.getMessage() + "' should contain '" + c + "'");
    }
  }
}
