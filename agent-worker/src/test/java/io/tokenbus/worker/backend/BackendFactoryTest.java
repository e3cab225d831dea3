package io.tokenbus.worker.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tokenbus.events.JobError;
import io.tokenbus.testing.Patience;
import io.tokenbus.testing.TestRedis;
import io.tokenbus.worker.WorkerConfig;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Backend configuration from the environment, its validation, and the Ollama probe at start. */
class BackendFactoryTest {
  private static Vertx vertx;

  @BeforeAll
  static void start() {
    vertx = Vertx.vertx();
  }

  @AfterAll
  static void stop() {
    vertx.close().await();
  }

  private static WorkerConfig probing() {
    return WorkerConfig.fromEnv(Map.of("TOKENBUS_PROBE_OLLAMA", "true"));
  }

  private static HttpServer tags(int status, String body) {
    return vertx.createHttpServer().requestHandler(req -> {
      assertEquals("/api/tags", req.path());
      req.response().setStatusCode(status).putHeader("content-type", "application/json").end(body);
    }).listen(0, "127.0.0.1").await();
  }

  @Test
  void backendsComeFromAJsonArrayAndShortcuts() {
    Map<String, String> env = Map.of(
      "TOKENBUS_BACKENDS", "[{\"name\":\"gpu\",\"kind\":\"openai\",\"baseUrl\":\"http://gpu:8000/\",\"model\":\"llama\","
        + "\"idleTimeoutMs\":9000,\"retries\":0}]",
      "TOKENBUS_OLLAMA_URL", "http://localhost:11434",
      "TOKENBUS_OPENAI_URL", "https://api.openai.com", "TOKENBUS_OPENAI_API_KEY", "sk-x", "TOKENBUS_OPENAI_MODEL", "gpt-4o-mini",
      "TOKENBUS_DEFAULT_BACKEND", "openai");
    WorkerConfig c = WorkerConfig.fromEnv(env);
    assertEquals(List.of("gpu", "ollama", "openai"), c.backends().stream().map(BackendConfig::name).toList());
    BackendConfig gpu = c.backends().get(0);
    assertEquals("http://gpu:8000", gpu.baseUrl(), "trailing slash dropped");
    assertEquals(9000, gpu.idleTimeoutMs());
    assertEquals(0, gpu.retries());
    assertEquals(5000, gpu.connectTimeoutMs(), "default");
    assertEquals("llama3.2", c.backends().get(1).model(), "Ollama shortcut default model");
    assertEquals("sk-x", c.backends().get(2).apiKey());
    assertEquals("openai", c.defaultBackend());
    assertTrue(!c.toJson().encode().contains("sk-x"), "the API key is never logged");
  }

  @Test
  void invalidConfigurationFailsBeforeStart() {
    assertThrows(IllegalArgumentException.class, () -> WorkerConfig.fromEnv(Map.of("TOKENBUS_BACKENDS", "{not json")));
    assertThrows(IllegalArgumentException.class, () -> WorkerConfig.fromEnv(Map.of("TOKENBUS_BACKENDS",
      "[{\"name\":\"a\",\"kind\":\"grpc\",\"baseUrl\":\"http://x\",\"model\":\"m\"}]")));
    assertThrows(IllegalArgumentException.class, () -> WorkerConfig.fromEnv(Map.of("TOKENBUS_BACKENDS",
      "[{\"name\":\"local\",\"kind\":\"ollama\",\"baseUrl\":\"http://x\",\"model\":\"m\"}]")));
    assertThrows(IllegalArgumentException.class, () -> WorkerConfig.fromEnv(Map.of("TOKENBUS_OLLAMA_URL", "http://x",
      "TOKENBUS_DEFAULT_BACKEND", "nope")));
    assertThrows(IllegalArgumentException.class, () -> WorkerConfig.fromEnv(Map.of("TOKENBUS_OLLAMA_URL", "localhost:11434")));
  }

  @Test
  void configuredBackendsAreChosenByNameWithTheDefaultForJobsThatNameNone() {
    WorkerConfig c = WorkerConfig.fromEnv(Map.of("TOKENBUS_OLLAMA_URL", "http://127.0.0.1:1", "TOKENBUS_PROBE_OLLAMA", "true"));
    Backends b = BackendFactory.create(vertx, c, "http://127.0.0.1:1").await();
    assertEquals("ollama", b.choose(null).name(), "the first configured is the default; no probe when configured");
    assertEquals("local", b.choose("local").name(), "the built-in generator is always there");
    assertEquals(JobError.UNKNOWN_BACKEND, assertThrows(BackendException.class, () -> b.choose("nope")).code());
    b.close().await();
  }

  @Test
  void anOllamaAnsweringAtStartBecomesTheDefault() {
    HttpServer ollama = tags(200, "{\"models\":[{\"name\":\"llama3.2:latest\",\"model\":\"llama3.2:latest\","
      + "\"modified_at\":\"2025-05-04T17:37:44.706015396-07:00\",\"size\":2019393189,\"digest\":\"a80c\",\"details\":"
      + "{\"parent_model\":\"\",\"format\":\"gguf\",\"family\":\"llama\",\"families\":[\"llama\"],\"parameter_size\":\"3.2B\","
      + "\"quantization_level\":\"Q4_K_M\"}}]}");
    try {
      Backends b = BackendFactory.create(vertx, probing(), "http://127.0.0.1:" + ollama.actualPort()).await();
      assertEquals("ollama", b.choose(null).name());
      assertEquals("llama3.2:latest", b.choose(null).defaultModel());
      // Issue 10: the probed Ollama had retries 1, connect 2 s, idle 120 s instead of the documented defaults.
      BackendConfig found = ((HttpChatBackend) b.choose(null)).config;
      assertEquals(BackendConfig.DEFAULT_RETRIES, found.retries());
      assertEquals(5000, found.connectTimeoutMs());
      assertEquals(60_000, found.idleTimeoutMs());
      b.close().await();
    } finally {
      ollama.close().await();
    }
  }

  /**
   * CI hung here for 85 minutes: the probe read the answer after the response had ended (the body was asked for
   * outside send's callback, and the caller is no Vert.x thread), and nothing bounded the wait. About one probe in
   * 1,500 hung on this machine; every probe must now find the model, each within a deadline.
   */
  @Test
  void everyProbeFromAnyThreadEndsWithTheAnswer() throws Exception {
    HttpServer ollama = tags(200, "{\"models\":[{\"name\":\"llama3.2:latest\"}]}");
    try {
      String url = "http://127.0.0.1:" + ollama.actualPort();
      for (int i = 0; i < 3000; i++) {
        assertEquals("llama3.2:latest",
          BackendFactory.probeOllama(vertx, url).toCompletionStage().toCompletableFuture().get(Patience.SECONDS, TimeUnit.SECONDS),
          "probe " + i);
      }
    } finally {
      ollama.close().await();
    }
  }

  @Test
  void withoutAnOllamaTheLocalGeneratorIsTheDefault() {
    int closed = TestRedis.freePort();
    Backends b = BackendFactory.create(vertx, probing(), "http://127.0.0.1:" + closed).await();
    assertEquals(LocalGeneratorBackend.NAME, b.choose(null).name());
    assertEquals(1, b.all().size());
    HttpServer empty = tags(200, "{\"models\":[]}");
    try {
      assertEquals(LocalGeneratorBackend.NAME,
        BackendFactory.create(vertx, probing(), "http://127.0.0.1:" + empty.actualPort()).await().choose(null).name(),
        "an Ollama without models cannot serve");
    } finally {
      empty.close().await();
    }
    HttpServer silent = vertx.createHttpServer().requestHandler(req -> {}).listen(0, "127.0.0.1").await();
    try {
      assertEquals(LocalGeneratorBackend.NAME,
        BackendFactory.create(vertx, probing(), "http://127.0.0.1:" + silent.actualPort()).await().choose(null).name(),
        "a server that never answers does not hold up the start");
    } finally {
      silent.close().await();
    }
  }
}
