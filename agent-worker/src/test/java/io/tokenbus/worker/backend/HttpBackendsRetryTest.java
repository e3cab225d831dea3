package io.tokenbus.worker.backend;

import static io.tokenbus.worker.backend.Recorded.OPENAI_DONE;
import static io.tokenbus.worker.backend.Recorded.SSE;
import static io.tokenbus.worker.backend.Recorded.openAiChunk;
import static io.tokenbus.worker.backend.Recorded.openAiText;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.tokenbus.events.JobError;
import io.tokenbus.testing.Patience;
import io.tokenbus.worker.backend.FakeProvider.End;
import io.tokenbus.worker.backend.FakeProvider.Write;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Which provider errors the HTTP backends retry: rate limits and server errors before the first token, then reported
 * with the provider's message; client errors never; nothing once a token was delivered (it would be repeated).
 */
class HttpBackendsRetryTest extends BackendTestBase {
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
    Outcome r = new Outcome(1);
    try (FakeProvider fake = new FakeProvider(providers, List.of(
      FakeProvider.error(500, Recorded.OPENAI_500),
      FakeProvider.ok(SSE, new Write(openAiChunk("{\"content\":\"ok\"}", "stop")), new Write(OPENAI_DONE), new End())))) {
      r.start(vertx, openAi(fake, 5000, 2));
      assertEquals("ok", r.result.get(Patience.SECONDS, TimeUnit.SECONDS));
      assertEquals(2, fake.bodies.size());
    }
  }

  @Test
  void aFailureAfterTheFirstTokenIsNotRetried() throws Exception {
    try (FakeProvider fake = new FakeProvider(providers, List.of(FakeProvider.ok(SSE, new Write(openAiText("a")), new End())))) {
      assertEquals(JobError.BACKEND_STREAM_CUT, failure(openAi(fake, 5000, 3)).code());
      assertEquals(1, fake.bodies.size(), "a retry would repeat the tokens already sent");
    }
  }
}
