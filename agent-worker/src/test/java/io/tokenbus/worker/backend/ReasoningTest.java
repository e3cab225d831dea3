package io.tokenbus.worker.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.tokenbus.testing.Patience;
import io.vertx.core.Promise;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Reasoning text of thinking models reaches the sink apart from the answer, in both wire formats. */
class ReasoningTest extends BackendTestBase {
  private static final class Sink implements TokenSink {
    final List<String> events = new ArrayList<>();
    final CompletableFuture<List<String>> done = new CompletableFuture<>();

    @Override
    public void onToken(String text) {
      events.add("answer:" + text);
    }

    @Override
    public void onReasoning(String text) {
      events.add("thinking:" + text);
    }

    @Override
    public void onEnd() {
      done.complete(events);
    }

    @Override
    public void onError(BackendException error) {
      done.completeExceptionally(error);
    }
  }

  private static List<String> run(ModelBackend b) throws Exception {
    Sink sink = new Sink();
    Promise<Void> started = Promise.promise();
    vertx.getOrCreateContext().runOnContext(v -> {
      b.generate(new GenerationRequest("m", List.of(ChatMessage.user("hi")), 1, 0), sink);
      started.complete();
    });
    started.future().await();
    return sink.done.get(Patience.SECONDS, TimeUnit.SECONDS);
  }

  @Test
  void ollamaThinkingLinesAreReasoning() throws Exception {
    String think = "{\"model\":\"qwen3\",\"created_at\":\"2025-10-26T17:15:24Z\",\"message\":{\"role\":\"assistant\",\"content\":\"\",\"thinking\":\"Let me\"},\"done\":false}\n";
    try (FakeProvider fake = new FakeProvider(providers, List.of(FakeProvider.ok("application/x-ndjson",
      new FakeProvider.Write(think), new FakeProvider.Write(Recorded.ollamaLine("Hi", false)),
      new FakeProvider.Write(Recorded.ollamaLine("!", true)), new FakeProvider.End())))) {
      List<String> events = run(new OllamaBackend(vertx, new BackendConfig("o", "ollama", fake.baseUrl(), "qwen3", null, 2000, 5000, 0), 2));
      assertEquals(List.of("thinking:Let me", "answer:Hi", "answer:!"), events);
    }
  }

  @Test
  void openAiReasoningDeltasAreReasoning() throws Exception {
    try (FakeProvider fake = new FakeProvider(providers, List.of(FakeProvider.ok("text/event-stream",
      new FakeProvider.Write(Recorded.openAiChunk("{\"role\":\"assistant\",\"content\":\"\"}", null)),
      new FakeProvider.Write(Recorded.openAiChunk("{\"reasoning\":\"Plan\"}", null)),
      new FakeProvider.Write(Recorded.openAiChunk("{\"reasoning_content\":\" more\",\"content\":null}", null)),
      new FakeProvider.Write(Recorded.openAiChunk("{\"content\":\"Done\"}", "stop")),
      new FakeProvider.Write("data: [DONE]\n\n"), new FakeProvider.End())))) {
      List<String> events = run(new OpenAiCompatibleBackend(vertx, new BackendConfig("a", "openai", fake.baseUrl(), "m", null, 2000, 5000, 0), 2));
      assertEquals(List.of("thinking:Plan", "thinking: more", "answer:Done"), events);
    }
  }
}
