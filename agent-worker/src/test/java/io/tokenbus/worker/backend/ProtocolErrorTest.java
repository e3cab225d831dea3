package io.tokenbus.worker.backend;

import static io.tokenbus.worker.backend.Recorded.NDJSON;
import static io.tokenbus.worker.backend.Recorded.OPENAI_ROLE;
import static io.tokenbus.worker.backend.Recorded.SSE;
import static io.tokenbus.worker.backend.Recorded.ollamaLine;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tokenbus.events.JobError;
import io.tokenbus.worker.backend.FakeProvider.Stall;
import io.tokenbus.worker.backend.FakeProvider.Write;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * backend_protocol_error messages say what was wrong and show the start of the offending line, escaped, on one line;
 * nothing of the JSON parser's internals.
 */
class ProtocolErrorTest extends BackendTestBase {
  private static String protocolError(String kind, FakeProvider.Answer answer) throws Exception {
    try (FakeProvider fake = new FakeProvider(providers, List.of(answer))) {
      BackendConfig c = new BackendConfig(kind, kind, fake.baseUrl(), "m", null, 2000, 5000, 0);
      ModelBackend b = kind.equals("ollama") ? new OllamaBackend(vertx, c, 2) : new OpenAiCompatibleBackend(vertx, c, 2);
      BackendException e = Outcome.of(vertx, b).failure();
      assertEquals(JobError.BACKEND_PROTOCOL_ERROR, e.code(), e.getMessage());
      String m = e.getMessage();
      assertFalse(m.contains("\n") || m.contains("\r") || m.contains("Source") || m.contains("column")
        || m.contains("Failed to decode") || m.contains("Exception"), "parser internals or line breaks in: " + m);
      return m;
    }
  }

  @Test
  void aLineThatIsNotJsonIsQuoted() throws Exception {
    assertEquals("ollama sent a line that is not a JSON object: {not json",
      protocolError("ollama", FakeProvider.ok(NDJSON, new Write(ollamaLine("a", false)), new Write("{not json\n"), new Stall())));
    assertEquals("openai sent an event that is not a JSON object: {oops}",
      protocolError("openai", FakeProvider.ok(SSE, new Write(OPENAI_ROLE), new Write("data: {oops}\n\n"), new Stall())));
  }

  @Test
  void aLongLineIsCutAndControlCharactersAreEscaped() throws Exception {
    String line = "{\"message\":{\"content\":\"a\tb\u0001c\u2028" + "x".repeat(300) + "\"}";
    String m = protocolError("ollama", FakeProvider.ok(NDJSON, new Write(line + "\n"), new Stall()));
    String excerpt = m.substring(m.indexOf(": ") + 2);
    assertTrue(excerpt.startsWith("{\"message\":{\"content\":\"a\\tb\\u0001c\\u2028xxx"), m);
    assertTrue(excerpt.endsWith("x…") && excerpt.length() < 140, "the first 120 characters: " + m);
    // Several data lines make one event, joined by a line break: shown escaped.
    m = protocolError("openai", FakeProvider.ok(SSE, new Write("data: {\"choices\":\ndata: oops\n\n"), new Stall()));
    assertEquals("openai sent an event that is not a JSON object: {\"choices\":\\noops", m);
  }

  @Test
  void jsonOfTheWrongShapeIsNamedAsSuch() throws Exception {
    assertEquals("openai sent an event of an unexpected shape: {\"choices\":[{\"index\":0,\"delta\":\"not an object\"}]}",
      protocolError("openai", FakeProvider.ok(SSE, new Write("data: {\"choices\":[{\"index\":0,\"delta\":\"not an object\"}]}\n\n"),
        new Stall())));
    assertEquals("ollama sent a line of an unexpected shape: {\"message\":\"hi\",\"done\":false}",
      protocolError("ollama", FakeProvider.ok(NDJSON, new Write("{\"message\":\"hi\",\"done\":false}\n"), new Stall())));
    assertEquals("openai sent an event of an unexpected shape: {\"choices\":[null]}",
      protocolError("openai", FakeProvider.ok(SSE, new Write("data: {\"choices\":[null]}\n\n"), new Stall())));
  }

  @Test
  void aLineOverTheLimitShowsHowItStarts() throws Exception {
    String huge = "{\"message\":{\"content\":\"" + "y".repeat(HttpChatBackend.MAX_LINE_BYTES) + "\"}}\n";
    String m = protocolError("ollama", FakeProvider.ok(NDJSON, new Write(huge), new Stall()));
    assertTrue(m.startsWith("ollama sent a line longer than 1048576 bytes: {\"message\":{\"content\":\"yyy") && m.endsWith("y…"), m);
  }

  @Test
  void jsonInsteadOfAStreamIsQuotedOnOneLine() throws Exception {
    String m = protocolError("openai", FakeProvider.error(200, "{\n  \"id\": \"x\",\n  \"object\": \"chat.completion\"\n}"));
    assertEquals("openai answered application/json instead of a stream: {\\n  \"id\": \"x\",\\n  \"object\": \"chat.completion\"\\n}", m);
  }
}
