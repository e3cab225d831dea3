package io.tokenbus.worker.backend;

import static io.tokenbus.worker.backend.Recorded.NDJSON;
import static io.tokenbus.worker.backend.Recorded.OPENAI_DONE;
import static io.tokenbus.worker.backend.Recorded.OPENAI_FINISH;
import static io.tokenbus.worker.backend.Recorded.OPENAI_ROLE;
import static io.tokenbus.worker.backend.Recorded.OPENAI_USAGE;
import static io.tokenbus.worker.backend.Recorded.SSE;
import static io.tokenbus.worker.backend.Recorded.ollamaLine;
import static io.tokenbus.worker.backend.Recorded.openAiChunk;
import static io.tokenbus.worker.backend.Recorded.openAiText;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tokenbus.events.JobError;
import io.tokenbus.testing.TestRedis;
import io.tokenbus.worker.backend.FakeProvider.Await;
import io.tokenbus.worker.backend.FakeProvider.End;
import io.tokenbus.worker.backend.FakeProvider.Flood;
import io.tokenbus.worker.backend.FakeProvider.Stall;
import io.tokenbus.worker.backend.FakeProvider.Write;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Ollama and OpenAI-compatible backends against fake providers speaking the recorded wire formats over real sockets. */
class HttpBackendsTest {
  /** The bound from cancel to closed upstream connection. */
  static final long CANCEL_BUDGET_MS = 100;

  private static Vertx vertx;
  /** The fakes run on their own Vert.x: their threads never wait for the client's, nor the client's for theirs. */
  private static Vertx providers;

  @BeforeAll
  static void start() {
    vertx = Vertx.vertx();
    providers = Vertx.vertx();
  }

  @AfterAll
  static void stop() {
    vertx.close().await();
    providers.close().await();
  }

  /** What a generation delivered; each token completes a "seen" promise so the fake can pace itself by the client. */
  static final class Recorder implements TokenSink {
    final List<String> tokens = Collections.synchronizedList(new ArrayList<>());
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
    public void onToken(String text) {
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

  private static OpenAiCompatibleBackend openAi(FakeProvider fake, long idleMs, int retries) {
    return new OpenAiCompatibleBackend(vertx, config("openai", fake.baseUrl(), idleMs, retries), 4);
  }

  private static OllamaBackend ollama(FakeProvider fake, long idleMs, int retries) {
    return new OllamaBackend(vertx, config("ollama", fake.baseUrl(), idleMs, retries), 4);
  }

  /** Starts a generation on a Vert.x context, as the worker does; returns its handle and that context's runner. */
  private record Running(Generation generation, io.vertx.core.Context context) {
    void on(Runnable r) {
      context.runOnContext(v -> r.run());
    }
  }

  private static Running run(ModelBackend b, TokenSink sink) {
    GenerationRequest req = new GenerationRequest("m", List.of(ChatMessage.user("hi")), 1, 0);
    io.vertx.core.Context ctx = vertx.getOrCreateContext();
    Promise<Generation> p = Promise.promise();
    ctx.runOnContext(v -> p.complete(b.generate(req, sink)));
    return new Running(p.future().await(), ctx);
  }

  @Test
  void openAiStreamsTokenByTokenIgnoringRoleEmptyAndUsageChunks() throws Exception {
    Recorder r = new Recorder(3);
    try (FakeProvider fake = new FakeProvider(providers, List.of(FakeProvider.ok(SSE,
      new Write(OPENAI_ROLE),
      new Write(": keep-alive\n\n"),
      new Write(openAiText("Hel")), r.seenToken(1),
      new Write(openAiChunk("{\"content\":null}", null)),
      new Write(openAiChunk("{}", null)),
      // an event split across writes, CRLF line ends, data: without the space
      new Write("data:{\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"lo\"}"),
      new Write(",\"finish_reason\":null}]}\r\n\r\n"), r.seenToken(2),
      new Write(openAiText(" wörld")), r.seenToken(3),
      new Write(OPENAI_FINISH), new Write(OPENAI_USAGE), new Write(OPENAI_DONE), new End())))) {
      run(openAi(fake, 5000, 0), r);
      assertEquals("Hello wörld", r.result.get(5, TimeUnit.SECONDS));
      // The fake wrote token i+1 only after the sink had token i: one sink call per delta, as they arrive.
      assertEquals(List.of("Hel", "lo", " wörld"), r.tokens);
      assertEquals(true, fake.bodies.get(0).getBoolean("stream"));
      assertEquals(true, fake.bodies.get(0).getJsonObject("stream_options").getBoolean("include_usage"));
      assertEquals("m", fake.bodies.get(0).getString("model"));
      assertEquals("hi", fake.bodies.get(0).getJsonArray("messages").getJsonObject(0).getString("content"));
      assertEquals("Bearer sk-test", fake.authorizations.get(0));
    }
  }

  @Test
  void llamaCppAndRoleOnlyFirstDeltasCarryNoText() throws Exception {
    Recorder r = new Recorder(2);
    try (FakeProvider fake = new FakeProvider(providers, List.of(FakeProvider.ok(SSE,
      new Write(":\n\n"), // llama.cpp ping
      new Write(openAiChunk("{\"role\":\"assistant\",\"content\":null}", null)),
      new Write(openAiChunk("{\"role\":\"assistant\"}", null)),
      new Write(openAiText("Hi")), r.seenToken(1),
      new Write(openAiChunk("{\"content\":\"\"}", null)),
      new Write(openAiChunk("{\"content\":\" there\",\"reasoning_content\":null}", null)), r.seenToken(2),
      // llama.cpp's last chunk: finish + timings; vLLM adds stop_reason
      new Write("data: {\"choices\":[{\"finish_reason\":\"stop\",\"index\":0,\"delta\":{},\"stop_reason\":null}],"
        + "\"created\":1,\"id\":\"x\",\"model\":\"m\",\"system_fingerprint\":\"b4000\",\"object\":\"chat.completion.chunk\","
        + "\"timings\":{\"prompt_n\":3,\"predicted_n\":2,\"predicted_per_second\":40.1}}\n\n"),
      new Write("data: {\"id\":\"x\",\"object\":\"chat.completion.chunk\",\"usage\":{\"total_tokens\":5}}\n\n"),
      new Write(OPENAI_DONE), new End())))) {
      run(openAi(fake, 5000, 0), r);
      assertEquals("Hi there", r.result.get(5, TimeUnit.SECONDS));
      assertEquals(List.of("Hi", " there"), r.tokens);
    }
  }

  @Test
  void ollamaStreamsTokenByTokenAndKeepsTextOnTheDoneLine() throws Exception {
    Recorder r = new Recorder(3);
    try (FakeProvider fake = new FakeProvider(providers, List.of(FakeProvider.ok(NDJSON,
      new Write(ollamaLine("The", false)), r.seenToken(1),
      new Write(ollamaLine(" quick", false)), r.seenToken(2),
      new Write(ollamaLine("", false)),
      new Write("{\"model\":\"qwen3\",\"created_at\":\"x\",\"message\":{\"role\":\"assistant\",\"content\":\"\",\"thinking\":\"Let me\"},\"done\":false}\n"),
      new Write(ollamaLine(" fox", true)), new End())))) {
      run(ollama(fake, 5000, 0), r);
      assertEquals("The quick fox", r.result.get(5, TimeUnit.SECONDS));
      assertEquals(List.of("The", " quick", " fox"), r.tokens);
      assertEquals(true, fake.bodies.get(0).getBoolean("stream"));
      assertEquals("m", fake.bodies.get(0).getString("model"));
    }
  }

  private static BackendException failure(ModelBackend b) throws Exception {
    Recorder r = new Recorder(0);
    run(b, r);
    BackendException e = r.error.get(10, TimeUnit.SECONDS);
    assertFalse(r.result.isDone(), "a failed generation does not also end");
    return e;
  }

  private static void assertHttpError(BackendException e, String... contains) {
    assertEquals(JobError.BACKEND_HTTP_ERROR, e.code(), e.getMessage());
    for (String c : contains) {
      assertTrue(e.getMessage().contains(c), "'" + e.getMessage() + "' should contain '" + c + "'");
    }
  }

  @Test
  void clientErrorsCarryTheProvidersMessageAndAreNotRetried() throws Exception {
    try (FakeProvider fake = new FakeProvider(providers, List.of(FakeProvider.error(401, Recorded.OPENAI_401)))) {
      assertHttpError(failure(openAi(fake, 5000, 2)), "401", "Incorrect API key provided", "invalid_api_key");
      assertEquals(1, fake.bodies.size(), "a 4xx is not retried");
    }
    try (FakeProvider fake = new FakeProvider(providers, List.of(FakeProvider.error(404, Recorded.OPENAI_404)))) {
      assertHttpError(failure(openAi(fake, 5000, 2)), "404", "The model `gpt-x` does not exist", "model_not_found");
      assertEquals(1, fake.bodies.size());
    }
    try (FakeProvider fake = new FakeProvider(providers, List.of(FakeProvider.error(404, Recorded.OLLAMA_404)))) {
      assertHttpError(failure(ollama(fake, 5000, 2)), "404", "model 'nope' not found");
    }
    // LM Studio: error as a bare string; vLLM: integer code; old vLLM: flat object.
    try (FakeProvider fake = new FakeProvider(providers, List.of(FakeProvider.error(404, "{\"error\":\"Model 'x' not found\"}")))) {
      assertHttpError(failure(openAi(fake, 5000, 0)), "Model 'x' not found");
    }
    try (FakeProvider fake = new FakeProvider(providers, List.of(FakeProvider.error(404,
      "{\"error\":{\"message\":\"The model `x` does not exist.\",\"type\":\"NotFoundError\",\"param\":null,\"code\":404}}")))) {
      assertHttpError(failure(openAi(fake, 5000, 0)), "The model `x` does not exist.");
    }
    try (FakeProvider fake = new FakeProvider(providers, List.of(FakeProvider.error(400,
      "{\"object\":\"error\",\"message\":\"max_tokens is too large\",\"code\":400}")))) {
      assertHttpError(failure(openAi(fake, 5000, 0)), "400", "max_tokens is too large");
    }
  }

  @Test
  void rateLimitsAndServerErrorsAreRetriedThenReported() throws Exception {
    try (FakeProvider fake = new FakeProvider(providers, List.of(FakeProvider.error(429, Recorded.OPENAI_429)))) {
      assertHttpError(failure(openAi(fake, 5000, 1)), "429", "Rate limit reached", "rate_limit_exceeded");
      assertEquals(2, fake.bodies.size(), "one retry");
    }
    try (FakeProvider fake = new FakeProvider(providers, List.of(FakeProvider.error(502, "text/html", "<html>Bad Gateway</html>")))) {
      assertHttpError(failure(ollama(fake, 5000, 0)), "502", "Bad Gateway");
    }
  }

  @Test
  void serverErrorsAreRetriedBeforeTheFirstToken() throws Exception {
    Recorder r = new Recorder(1);
    try (FakeProvider fake = new FakeProvider(providers, List.of(
      FakeProvider.error(500, Recorded.OPENAI_500),
      FakeProvider.ok(SSE, new Write(openAiChunk("{\"content\":\"ok\"}", "stop")), new Write(OPENAI_DONE), new End())))) {
      run(openAi(fake, 5000, 2), r);
      assertEquals("ok", r.result.get(5, TimeUnit.SECONDS));
      assertEquals(2, fake.bodies.size());
    }
  }

  @Test
  void aJsonAnswerInsteadOfAStreamIsAnError() throws Exception {
    try (FakeProvider fake = new FakeProvider(providers, List.of(FakeProvider.error(200,
      "{\"id\":\"x\",\"object\":\"chat.completion\",\"choices\":[{\"message\":{\"content\":\"hi\"}}]}")))) {
      assertEquals(JobError.BACKEND_PROTOCOL_ERROR, failure(openAi(fake, 5000, 0)).code());
    }
  }

  @Test
  void connectionRefusedIsUnreachable() throws Exception {
    int closed = TestRedis.freePort();
    BackendException e = failure(new OllamaBackend(vertx, config("ollama", "http://127.0.0.1:" + closed, 5000, 1), 4));
    assertEquals(JobError.BACKEND_UNREACHABLE, e.code());
    assertTrue(e.getMessage().contains("127.0.0.1:" + closed), e.getMessage());
    e = failure(new OpenAiCompatibleBackend(vertx, config("openai", "http://127.0.0.1:" + closed, 5000, 0), 4));
    assertEquals(JobError.BACKEND_UNREACHABLE, e.code());
  }

  @Test
  void malformedLinesAreProtocolErrors() throws Exception {
    try (FakeProvider fake = new FakeProvider(providers, List.of(FakeProvider.ok(NDJSON, new Write(ollamaLine("a", false)),
      new Write("{not json\n"), new Stall())))) {
      assertEquals(JobError.BACKEND_PROTOCOL_ERROR, failure(ollama(fake, 5000, 0)).code());
      fake.closedAtNanos.get(5, TimeUnit.SECONDS); // the broken stream's connection is dropped
    }
    try (FakeProvider fake = new FakeProvider(providers, List.of(FakeProvider.ok(SSE, new Write(OPENAI_ROLE),
      new Write("data: {oops}\n\n"), new Stall())))) {
      assertEquals(JobError.BACKEND_PROTOCOL_ERROR, failure(openAi(fake, 5000, 0)).code());
    }
    try (FakeProvider fake = new FakeProvider(providers, List.of(FakeProvider.ok(SSE,
      new Write("data: {\"choices\":[{\"index\":0,\"delta\":\"not an object\"}]}\n\n"), new Stall())))) {
      assertEquals(JobError.BACKEND_PROTOCOL_ERROR, failure(openAi(fake, 5000, 0)).code());
    }
  }

  @Test
  void aStalledStreamTimesOutAndReleasesTheConnection() throws Exception {
    try (FakeProvider fake = new FakeProvider(providers, List.of(FakeProvider.ok(SSE, new Write(openAiText("a")), new Stall())))) {
      assertEquals(JobError.BACKEND_IDLE_TIMEOUT, failure(openAi(fake, 300, 0)).code());
      fake.closedAtNanos.get(5, TimeUnit.SECONDS);
    }
    try (FakeProvider fake = new FakeProvider(providers, List.of(FakeProvider.ok(NDJSON, new Write(ollamaLine("a", false)), new Stall())))) {
      assertEquals(JobError.BACKEND_IDLE_TIMEOUT, failure(ollama(fake, 300, 0)).code());
      fake.closedAtNanos.get(5, TimeUnit.SECONDS);
    }
    // Silent before the headers: the idle timeout also bounds the wait for the first byte.
    try (FakeProvider fake = new FakeProvider(providers, List.of(FakeProvider.ok(NDJSON, new Stall())))) {
      assertEquals(JobError.BACKEND_IDLE_TIMEOUT, failure(ollama(fake, 300, 0)).code());
      fake.closedAtNanos.get(5, TimeUnit.SECONDS);
    }
  }

  @Test
  void aCutStreamIsReportedAsSuch() throws Exception {
    try (FakeProvider fake = new FakeProvider(providers, List.of(FakeProvider.ok(SSE, new Write(openAiText("a")), new End())))) {
      assertEquals(JobError.BACKEND_STREAM_CUT, failure(openAi(fake, 5000, 0)).code());
    }
    try (FakeProvider fake = new FakeProvider(providers, List.of(FakeProvider.ok(NDJSON, new Write(ollamaLine("a", false)), new End())))) {
      assertEquals(JobError.BACKEND_STREAM_CUT, failure(ollama(fake, 5000, 0)).code());
    }
  }

  @Test
  void finishReasonWithoutDoneIsAProperEnd() throws Exception {
    Recorder r = new Recorder(1);
    try (FakeProvider fake = new FakeProvider(providers, List.of(FakeProvider.ok(SSE, new Write(openAiText("a")),
      new Write(OPENAI_FINISH), new End())))) {
      run(openAi(fake, 5000, 0), r);
      assertEquals("a", r.result.get(5, TimeUnit.SECONDS));
    }
  }

  @Test
  void midStreamErrorsFailTheJob() throws Exception {
    try (FakeProvider fake = new FakeProvider(providers, List.of(FakeProvider.ok(SSE, new Write(openAiText("a")),
      new Write("data: {\"error\":{\"message\":\"overloaded\",\"type\":\"server_error\",\"param\":null,\"code\":null}}\n\n"),
      new Write(OPENAI_DONE), new End())))) {
      assertHttpError(failure(openAi(fake, 5000, 0)), "overloaded", "server_error");
    }
    try (FakeProvider fake = new FakeProvider(providers, List.of(FakeProvider.ok(SSE, new Write(openAiText("a")),
      new Write("event: error\ndata: {\"message\":\"context overflow\"}\n\n"), new Stall())))) {
      assertHttpError(failure(openAi(fake, 5000, 0)), "context overflow");
    }
    try (FakeProvider fake = new FakeProvider(providers, List.of(FakeProvider.ok(NDJSON, new Write(ollamaLine("a", false)),
      new Write(Recorded.OLLAMA_MID_STREAM), new End())))) {
      assertHttpError(failure(ollama(fake, 5000, 0)), "an error was encountered while running the model");
    }
  }

  @Test
  void aFailureAfterTheFirstTokenIsNotRetried() throws Exception {
    try (FakeProvider fake = new FakeProvider(providers, List.of(FakeProvider.ok(SSE, new Write(openAiText("a")), new End())))) {
      assertEquals(JobError.BACKEND_STREAM_CUT, failure(openAi(fake, 5000, 3)).code());
      assertEquals(1, fake.bodies.size(), "a retry would repeat the tokens already sent");
    }
  }

  private static void assertCancelClosesUpstream(ModelBackend backend, FakeProvider fake, Recorder r, int tokensFirst)
    throws Exception {
    Running g = run(backend, r);
    r.seen.get(tokensFirst - 1).future().await();
    CompletableFuture<Long> cancelledAt = new CompletableFuture<>();
    g.on(() -> {
      cancelledAt.complete(System.nanoTime());
      g.generation().cancel();
    });
    long ms = (fake.closedAtNanos.get(5, TimeUnit.SECONDS) - cancelledAt.get()) / 1_000_000;
    assertTrue(ms < CANCEL_BUDGET_MS, "upstream connection closed " + ms + " ms after cancel");
    assertEquals(tokensFirst, r.tokens.size());
    assertFalse(r.result.isDone() || r.error.isDone(), "nothing is reported after a cancel");
  }

  @Test
  void cancelClosesTheUpstreamConnectionWithin100Ms() throws Exception {
    Recorder r = new Recorder(1);
    try (FakeProvider fake = new FakeProvider(providers, List.of(FakeProvider.ok(NDJSON,
      new Write(ollamaLine("first", false)), r.seenToken(1), new Stall())))) {
      assertCancelClosesUpstream(ollama(fake, 60_000, 0), fake, r, 1);
    }
    Recorder r2 = new Recorder(2);
    try (FakeProvider fake = new FakeProvider(providers, List.of(FakeProvider.ok(SSE,
      new Write(OPENAI_ROLE), new Write(openAiText("one")), r2.seenToken(1), new Write(openAiText(" two")), r2.seenToken(2),
      new Stall())))) {
      assertCancelClosesUpstream(openAi(fake, 60_000, 0), fake, r2, 2);
    }
  }

  @Test
  void cancelBeforeTheFirstByteAlsoClosesTheConnection() throws Exception {
    Recorder r = new Recorder(0);
    Promise<Void> requestSeen = Promise.promise();
    try (FakeProvider fake = new FakeProvider(providers, List.of(FakeProvider.ok(SSE,
      new Await(i -> {
        requestSeen.tryComplete();
        return Promise.promise().future(); // never answers
      }))))) {
      Running g = run(openAi(fake, 60_000, 0), r);
      requestSeen.future().await();
      CompletableFuture<Long> cancelledAt = new CompletableFuture<>();
      g.on(() -> {
        cancelledAt.complete(System.nanoTime());
        g.generation().cancel();
      });
      long ms = (fake.closedAtNanos.get(5, TimeUnit.SECONDS) - cancelledAt.get()) / 1_000_000;
      assertTrue(ms < CANCEL_BUDGET_MS, "closed " + ms + " ms after cancel");
    }
  }

  @Test
  void pauseStopsReadingTheUpstreamUntilResume() throws Exception {
    Recorder r = new Recorder(1);
    Promise<Void> paused = Promise.promise();
    Promise<Integer> full = Promise.promise();
    Promise<Void> resumed = Promise.promise();
    String filler = "x".repeat(1000);
    try (FakeProvider fake = new FakeProvider(providers, List.of(FakeProvider.ok(NDJSON,
      new Write(ollamaLine("a", false)), r.seenToken(1), new Await(i -> paused.future()),
      new Flood(ollamaLine(filler, false), 256L << 20, full),
      new Await(i -> resumed.future()),
      new Write(ollamaLine("z", true)), new End())))) {
      Running g = run(ollama(fake, 60_000, 0), r);
      r.seen.get(0).future().await();
      g.on(() -> {
        g.generation().pause();
        paused.complete();
      });
      // The fake writes until every buffer between it and us is full: we stopped reading the socket.
      int flooded = full.future().await();
      // Counted on the client's own loop, two turns later: a loop with bytes waiting reads them before it runs tasks,
      // so a client that kept reading would have delivered more tokens by now.
      Promise<Integer> delivered = Promise.promise();
      g.on(() -> g.on(() -> delivered.complete(r.tokens.size())));
      assertEquals(1, delivered.future().await(), "nothing delivered while paused, though the fake wrote " + flooded + " lines");
      g.on(() -> {
        g.generation().resume();
        resumed.complete();
      });
      String text = r.result.get(30, TimeUnit.SECONDS);
      assertEquals(1 + flooded + 1, r.tokens.size());
      assertEquals("a" + filler.repeat(flooded) + "z", text);
    }
  }
}
