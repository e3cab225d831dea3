package io.tokenbus.worker.backend;

import static io.tokenbus.worker.backend.FakeProvider.Await;
import static io.tokenbus.worker.backend.FakeProvider.End;
import static io.tokenbus.worker.backend.FakeProvider.Stall;
import static io.tokenbus.worker.backend.FakeProvider.Write;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tokenbus.events.JobError;
import io.tokenbus.testing.TestRedis;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Ollama and OpenAI-compatible backends against fake providers speaking the recorded wire formats over real sockets. */
class HttpBackendsTest {
  private static Vertx vertx;
  private static final String NDJSON = "application/x-ndjson";
  private static final String SSE = "text/event-stream";

  @BeforeAll
  static void start() {
    vertx = Vertx.vertx();
  }

  @AfterAll
  static void stop() {
    vertx.close().await();
  }

  /** What a generation delivered; tokens complete "seen" promises so the fake can wait for them. */
  static final class Recorder implements TokenSink {
    final List<String> tokens = new ArrayList<>();
    final List<Promise<Void>> seen = new ArrayList<>();
    final CompletableFuture<String> result = new CompletableFuture<>();
    final CompletableFuture<BackendException> error = new CompletableFuture<>();

    Recorder(int expected) {
      for (int i = 0; i < expected; i++) {
        seen.add(Promise.promise());
      }
    }

    /** A script step that lets the fake go on only once the client has the n-th token (1-based). */
    Await seenToken(int n) {
      return new Await(i -> seen.get(n - 1).future());
    }

    @Override
    public synchronized void onToken(String text) {
      tokens.add(text);
      if (tokens.size() <= seen.size()) {
        seen.get(tokens.size() - 1).complete();
      }
    }

    @Override
    public void onEnd() {
      result.complete(String.join("", tokens));
    }

    @Override
    public void onError(BackendException e) {
      error.complete(e);
    }
  }

  private static BackendConfig config(String kind, String url, long idleMs, int retries) {
    return new BackendConfig(kind, kind, url, "m", "sk-test", 2000, idleMs, retries);
  }

  private static Generation run(ModelBackend b, TokenSink sink) {
    GenerationRequest req = new GenerationRequest("m", List.of(ChatMessage.user("hi")), 1, 0);
    Promise<Generation> p = Promise.promise();
    // Backends run on a Vert.x context, like in the worker.
    vertx.getOrCreateContext().runOnContext(v -> p.complete(b.generate(req, sink)));
    return p.future().await();
  }

  private static String openAiChunk(String deltaJson, String finish) {
    return "data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"created\":1694268190,\"model\":\"m\","
      + "\"system_fingerprint\":\"fp_1\",\"choices\":[{\"index\":0,\"delta\":" + deltaJson + ",\"logprobs\":null,\"finish_reason\":"
      + (finish == null ? "null" : "\"" + finish + "\"") + "}]}\n\n";
  }

  private static String ollamaLine(String content, boolean done) {
    return "{\"model\":\"m\",\"created_at\":\"2025-10-26T17:15:24.097767Z\",\"message\":{\"role\":\"assistant\",\"content\":"
      + io.vertx.core.json.Json.encode(content) + "},\"done\":" + done
      + (done ? ",\"done_reason\":\"stop\",\"total_duration\":4883583458,\"eval_count\":3,\"eval_duration\":4535599000" : "") + "}\n";
  }

  @Test
  void openAiStreamsTokenByTokenIgnoringRoleEmptyAndUsageChunks() throws Exception {
    Recorder r = new Recorder(3);
    try (FakeProvider fake = new FakeProvider(vertx, List.of(FakeProvider.ok(SSE,
      new Write(openAiChunk("{\"role\":\"assistant\",\"content\":\"\"}", null)),
      new Write(": keep-alive\n\n"),
      new Write(openAiChunk("{\"content\":\"Hel\"}", null)), r.seenToken(1),
      new Write(openAiChunk("{\"content\":null}", null)),
      new Write(openAiChunk("{}", null)),
      // an event split across writes, CRLF line ends, data: without the space
      new Write("data:{\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"lo\"}"),
      new Write(",\"finish_reason\":null}]}\r\n\r\n"), r.seenToken(2),
      new Write(openAiChunk("{\"content\":\" wörld\"}", null)), r.seenToken(3),
      new Write(openAiChunk("{}", "stop")),
      new Write("data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"choices\":[],\"usage\":{\"prompt_tokens\":9,\"completion_tokens\":3,\"total_tokens\":12}}\n\n"),
      new Write("data: [DONE]\n\n"), new End())))) {
      run(new OpenAiCompatibleBackend(vertx, config("openai", fake.baseUrl(), 5000, 0), 4), r);
      assertEquals("Hello wörld", r.result.get(5, TimeUnit.SECONDS));
      assertEquals(List.of("Hel", "lo", " wörld"), r.tokens, "one sink call per delta, as they arrive");
      assertEquals(true, fake.bodies.get(0).getBoolean("stream"));
      assertEquals("m", fake.bodies.get(0).getString("model"));
    }
  }

  @Test
  void ollamaStreamsTokenByTokenAndKeepsTextOnTheDoneLine() throws Exception {
    Recorder r = new Recorder(3);
    try (FakeProvider fake = new FakeProvider(vertx, List.of(FakeProvider.ok(NDJSON,
      new Write(ollamaLine("The", false)), r.seenToken(1),
      new Write(ollamaLine(" quick", false)), r.seenToken(2),
      new Write(ollamaLine("", false)),
      new Write(ollamaLine(" fox", true)), new End())))) {
      run(new OllamaBackend(vertx, config("ollama", fake.baseUrl(), 5000, 0), 4), r);
      assertEquals("The quick fox", r.result.get(5, TimeUnit.SECONDS));
      assertEquals(List.of("The", " quick", " fox"), r.tokens);
    }
  }

  private static BackendException failure(ModelBackend b) throws Exception {
    Recorder r = new Recorder(0);
    run(b, r);
    return r.error.get(10, TimeUnit.SECONDS);
  }

  @Test
  void httpErrorsCarryTheProvidersMessage() throws Exception {
    try (FakeProvider fake = new FakeProvider(vertx, List.of(FakeProvider.error(401,
      "{\"error\":{\"message\":\"Incorrect API key provided: sk-abc***xyz.\",\"type\":\"invalid_request_error\",\"param\":null,\"code\":\"invalid_api_key\"}}")))) {
      BackendException e = failure(new OpenAiCompatibleBackend(vertx, config("openai", fake.baseUrl(), 5000, 2), 4));
      assertEquals(JobError.BACKEND_HTTP_ERROR, e.code());
      assertTrue(e.getMessage().contains("401") && e.getMessage().contains("Incorrect API key"), e.getMessage());
      assertEquals(1, fake.bodies.size(), "a 4xx is not retried");
    }
    try (FakeProvider fake = new FakeProvider(vertx, List.of(FakeProvider.error(404, "{\"error\":\"model 'nope' not found\"}")))) {
      BackendException e = failure(new OllamaBackend(vertx, config("ollama", fake.baseUrl(), 5000, 0), 4));
      assertEquals(JobError.BACKEND_HTTP_ERROR, e.code());
      assertTrue(e.getMessage().contains("model 'nope' not found"), e.getMessage());
    }
  }

  @Test
  void serverErrorsAreRetriedBeforeTheFirstToken() throws Exception {
    Recorder r = new Recorder(1);
    try (FakeProvider fake = new FakeProvider(vertx, List.of(
      FakeProvider.error(500, "{\"error\":{\"message\":\"The server had an error\",\"type\":\"server_error\",\"param\":null,\"code\":null}}"),
      FakeProvider.ok(SSE, new Write(openAiChunk("{\"content\":\"ok\"}", "stop")), new Write("data: [DONE]\n\n"), new End())))) {
      run(new OpenAiCompatibleBackend(vertx, config("openai", fake.baseUrl(), 5000, 2), 4), r);
      assertEquals("ok", r.result.get(5, TimeUnit.SECONDS));
      assertEquals(2, fake.bodies.size());
    }
  }

  @Test
  void connectionRefusedIsUnreachable() throws Exception {
    int closed = TestRedis.freePort();
    BackendException e = failure(new OllamaBackend(vertx, config("ollama", "http://127.0.0.1:" + closed, 5000, 1), 4));
    assertEquals(JobError.BACKEND_UNREACHABLE, e.code());
  }

  @Test
  void malformedLinesAreProtocolErrors() throws Exception {
    try (FakeProvider fake = new FakeProvider(vertx, List.of(FakeProvider.ok(NDJSON, new Write(ollamaLine("a", false)),
      new Write("{not json\n"), new Stall())))) {
      assertEquals(JobError.BACKEND_PROTOCOL_ERROR, failure(new OllamaBackend(vertx, config("ollama", fake.baseUrl(), 5000, 0), 4)).code());
    }
    try (FakeProvider fake = new FakeProvider(vertx, List.of(FakeProvider.ok(SSE, new Write("data: {oops}\n\n"), new Stall())))) {
      assertEquals(JobError.BACKEND_PROTOCOL_ERROR,
        failure(new OpenAiCompatibleBackend(vertx, config("openai", fake.baseUrl(), 5000, 0), 4)).code());
    }
  }

  @Test
  void aStalledStreamTimesOut() throws Exception {
    try (FakeProvider fake = new FakeProvider(vertx, List.of(FakeProvider.ok(SSE,
      new Write(openAiChunk("{\"content\":\"a\"}", null)), new Stall())))) {
      BackendException e = failure(new OpenAiCompatibleBackend(vertx, config("openai", fake.baseUrl(), 300, 0), 4));
      assertEquals(JobError.BACKEND_IDLE_TIMEOUT, e.code());
      fake.closedAtNanos.get(5, TimeUnit.SECONDS); // and the connection was released
    }
  }

  @Test
  void aCutStreamIsReportedAsSuch() throws Exception {
    try (FakeProvider fake = new FakeProvider(vertx, List.of(FakeProvider.ok(SSE,
      new Write(openAiChunk("{\"content\":\"a\"}", null)), new End())))) {
      assertEquals(JobError.BACKEND_STREAM_CUT, failure(new OpenAiCompatibleBackend(vertx, config("openai", fake.baseUrl(), 5000, 0), 4)).code());
    }
    try (FakeProvider fake = new FakeProvider(vertx, List.of(FakeProvider.ok(NDJSON, new Write(ollamaLine("a", false)), new End())))) {
      assertEquals(JobError.BACKEND_STREAM_CUT, failure(new OllamaBackend(vertx, config("ollama", fake.baseUrl(), 5000, 0), 4)).code());
    }
  }

  @Test
  void midStreamErrorsFailTheJob() throws Exception {
    try (FakeProvider fake = new FakeProvider(vertx, List.of(FakeProvider.ok(SSE, new Write(openAiChunk("{\"content\":\"a\"}", null)),
      new Write("data: {\"error\":{\"message\":\"overloaded\",\"type\":\"server_error\",\"param\":null,\"code\":null}}\n\n"), new Stall())))) {
      BackendException e = failure(new OpenAiCompatibleBackend(vertx, config("openai", fake.baseUrl(), 5000, 0), 4));
      assertEquals(JobError.BACKEND_HTTP_ERROR, e.code());
      assertTrue(e.getMessage().contains("overloaded"));
    }
    try (FakeProvider fake = new FakeProvider(vertx, List.of(FakeProvider.ok(NDJSON, new Write(ollamaLine("a", false)),
      new Write("{\"error\":\"an error was encountered while running the model\"}\n"), new End())))) {
      BackendException e = failure(new OllamaBackend(vertx, config("ollama", fake.baseUrl(), 5000, 0), 4));
      assertEquals(JobError.BACKEND_HTTP_ERROR, e.code());
      assertTrue(e.getMessage().contains("running the model"));
    }
  }

  @Test
  void cancelClosesTheUpstreamConnectionWithin100Ms() throws Exception {
    Recorder r = new Recorder(1);
    try (FakeProvider fake = new FakeProvider(vertx, List.of(FakeProvider.ok(NDJSON,
      new Write(ollamaLine("first", false)), r.seenToken(1), new Stall())))) {
      Generation g = run(new OllamaBackend(vertx, config("ollama", fake.baseUrl(), 60_000, 0), 4), r);
      r.seen.get(0).future().await();
      long t0 = System.nanoTime();
      vertx.getOrCreateContext().runOnContext(v -> g.cancel());
      long closedAt = fake.closedAtNanos.get(5, TimeUnit.SECONDS);
      long ms = (closedAt - t0) / 1_000_000;
      assertTrue(ms < 100, "upstream connection closed " + ms + " ms after cancel");
      assertEquals(List.of("first"), r.tokens);
      assertTrue(!r.result.isDone() && !r.error.isDone(), "nothing is reported after a cancel");
    }
  }

  @Test
  void pauseStopsDeliveryUntilResume() throws Exception {
    Recorder r = new Recorder(1);
    Promise<Void> paused = Promise.promise();
    try (FakeProvider fake = new FakeProvider(vertx, List.of(FakeProvider.ok(NDJSON,
      new Write(ollamaLine("a", false)), r.seenToken(1), new Await(i -> paused.future()),
      new Write(ollamaLine("b", false)), new Write(ollamaLine("c", true)), new End())))) {
      Generation g = run(new OllamaBackend(vertx, config("ollama", fake.baseUrl(), 60_000, 0), 4), r);
      r.seen.get(0).future().await();
      Promise<Integer> during = Promise.promise();
      vertx.getOrCreateContext().runOnContext(v -> {
        g.pause();
        paused.complete();
        // Give the fake time to write while we are paused; nothing may be delivered.
        vertx.setTimer(300, id -> {
          during.complete(r.tokens.size());
          g.resume();
        });
      });
      assertEquals(1, during.future().await(), "no token delivered while paused");
      assertEquals("abc", r.result.get(5, TimeUnit.SECONDS));
    }
  }

}
