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

import io.tokenbus.testing.Patience;
import io.tokenbus.worker.backend.FakeProvider.End;
import io.tokenbus.worker.backend.FakeProvider.Write;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Ollama and OpenAI-compatible backends stream token by token from fake providers speaking the recorded wire formats
 * over real sockets: one sink call per text delta, as it arrives; pings, role-only, empty and usage chunks carry no
 * text; a finish reason without {@code [DONE]} is a proper end.
 */
class HttpBackendsStreamingTest extends BackendTestBase {
  @Test
  void openAiStreamsTokenByTokenIgnoringRoleEmptyAndUsageChunks() throws Exception {
    Outcome r = new Outcome(3);
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
      r.start(vertx, openAi(fake, 5000, 0));
      assertEquals("Hello wörld", r.result.get(Patience.SECONDS, TimeUnit.SECONDS));
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
    Outcome r = new Outcome(2);
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
      r.start(vertx, openAi(fake, 5000, 0));
      assertEquals("Hi there", r.result.get(Patience.SECONDS, TimeUnit.SECONDS));
      assertEquals(List.of("Hi", " there"), r.tokens);
    }
  }

  @Test
  void ollamaStreamsTokenByTokenAndKeepsTextOnTheDoneLine() throws Exception {
    Outcome r = new Outcome(3);
    try (FakeProvider fake = new FakeProvider(providers, List.of(FakeProvider.ok(NDJSON,
      new Write(ollamaLine("The", false)), r.seenToken(1),
      new Write(ollamaLine(" quick", false)), r.seenToken(2),
      new Write(ollamaLine("", false)),
      new Write("{\"model\":\"qwen3\",\"created_at\":\"x\",\"message\":{\"role\":\"assistant\",\"content\":\"\",\"thinking\":\"Let me\"},\"done\":false}\n"),
      new Write(ollamaLine(" fox", true)), new End())))) {
      r.start(vertx, ollama(fake, 5000, 0));
      assertEquals("The quick fox", r.result.get(Patience.SECONDS, TimeUnit.SECONDS));
      assertEquals(List.of("The", " quick", " fox"), r.tokens);
      assertEquals(true, fake.bodies.get(0).getBoolean("stream"));
      assertEquals("m", fake.bodies.get(0).getString("model"));
    }
  }

  @Test
  void finishReasonWithoutDoneIsAProperEnd() throws Exception {
    Outcome r = new Outcome(1);
    try (FakeProvider fake = new FakeProvider(providers, List.of(FakeProvider.ok(SSE, new Write(openAiText("a")),
      new Write(OPENAI_FINISH), new End())))) {
      r.start(vertx, openAi(fake, 5000, 0));
      assertEquals("a", r.result.get(Patience.SECONDS, TimeUnit.SECONDS));
    }
  }
}
