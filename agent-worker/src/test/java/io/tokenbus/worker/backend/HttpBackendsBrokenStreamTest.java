package io.tokenbus.worker.backend;

import static io.tokenbus.worker.backend.Recorded.NDJSON;
import static io.tokenbus.worker.backend.Recorded.OPENAI_DONE;
import static io.tokenbus.worker.backend.Recorded.OPENAI_ROLE;
import static io.tokenbus.worker.backend.Recorded.SSE;
import static io.tokenbus.worker.backend.Recorded.ollamaLine;
import static io.tokenbus.worker.backend.Recorded.openAiText;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tokenbus.events.JobError;
import io.tokenbus.testing.Patience;
import io.tokenbus.testing.TestRedis;
import io.tokenbus.worker.backend.FakeProvider.End;
import io.tokenbus.worker.backend.FakeProvider.Stall;
import io.tokenbus.worker.backend.FakeProvider.Write;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * A stream that goes wrong fails the generation with the code that says how: unreachable, not a stream, malformed,
 * stalled (the idle timeout, which also bounds the wait for the first byte), cut, or an error sent mid-stream; a
 * broken or stalled stream's connection is released.
 */
class HttpBackendsBrokenStreamTest extends BackendTestBase {
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
      fake.closedAtNanos.get(Patience.SECONDS, TimeUnit.SECONDS); // the broken stream's connection is dropped
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
      fake.closedAtNanos.get(Patience.SECONDS, TimeUnit.SECONDS);
    }
    try (FakeProvider fake = new FakeProvider(providers, List.of(FakeProvider.ok(NDJSON, new Write(ollamaLine("a", false)), new Stall())))) {
      assertEquals(JobError.BACKEND_IDLE_TIMEOUT, failure(ollama(fake, 300, 0)).code());
      fake.closedAtNanos.get(Patience.SECONDS, TimeUnit.SECONDS);
    }
    // Silent before the headers: the idle timeout also bounds the wait for the first byte.
    try (FakeProvider fake = new FakeProvider(providers, List.of(FakeProvider.ok(NDJSON, new Stall())))) {
      assertEquals(JobError.BACKEND_IDLE_TIMEOUT, failure(ollama(fake, 300, 0)).code());
      fake.closedAtNanos.get(Patience.SECONDS, TimeUnit.SECONDS);
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
}
