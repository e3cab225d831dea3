package io.tokenbus.worker.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.buffer.Buffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** {@link LineDecoder} and {@link SseDecoder}: framing rules, with the input split at every possible byte. */
class DecodersTest {

  /** Feeds {@code bytes} cut at {@code cut} (and, for good measure, also byte by byte). */
  private static List<List<String>> linesForEverySplit(byte[] bytes) {
    List<List<String>> all = new ArrayList<>();
    for (int cut = 0; cut <= bytes.length; cut++) {
      List<String> lines = new ArrayList<>();
      LineDecoder d = new LineDecoder(lines::add, 1024);
      d.feed(Buffer.buffer(java.util.Arrays.copyOfRange(bytes, 0, cut)));
      d.feed(Buffer.buffer(java.util.Arrays.copyOfRange(bytes, cut, bytes.length)));
      all.add(lines);
    }
    List<String> oneByOne = new ArrayList<>();
    LineDecoder d = new LineDecoder(oneByOne::add, 1024);
    for (byte b : bytes) {
      d.feed(Buffer.buffer(new byte[] {b}));
    }
    all.add(oneByOne);
    return all;
  }

  @Test
  void linesEndInCrlfLfOrCrAndSurviveAnySplitEvenInsideUtf8() {
    byte[] input = "\uFEFFa€😀\r\nb\nc\r\rd\r\n\n".getBytes(StandardCharsets.UTF_8);
    for (List<String> lines : linesForEverySplit(input)) {
      assertEquals(List.of("a€😀", "b", "c", "", "d", ""), lines);
    }
  }

  @Test
  void aPartialLastLineIsKeptUntilFinish() {
    List<String> lines = new ArrayList<>();
    LineDecoder d = new LineDecoder(lines::add, 1024);
    d.feed(Buffer.buffer("{\"done\":false}\n{\"done\":tr"));
    assertEquals(List.of("{\"done\":false}"), lines);
    assertTrue(d.hasPartialLine());
    d.feed(Buffer.buffer("ue}"));
    d.finish();
    assertEquals(List.of("{\"done\":false}", "{\"done\":true}"), lines);
    assertFalse(d.hasPartialLine());
  }

  @Test
  void aLineOverTheLimitFailsInsteadOfGrowingTheBuffer() {
    LineDecoder d = new LineDecoder(l -> {}, 16);
    d.feed(Buffer.buffer("0123456789abcdef\n")); // exactly the limit is fine
    assertThrows(IllegalStateException.class, () -> d.feed(Buffer.buffer("0123456789abcdefX")));
  }

  private static List<SseDecoder.Event> events(String... reads) {
    List<SseDecoder.Event> out = new ArrayList<>();
    SseDecoder d = new SseDecoder(out::add, 4096);
    for (String r : reads) {
      d.feed(Buffer.buffer(r));
    }
    return out;
  }

  @Test
  void sseFollowsTheWhatwgRules() {
    List<SseDecoder.Event> got = events(
      "\uFEFF: keep-alive\n\n",                 // BOM, comment, blank line without data: nothing
      "data: {\"a\":1}\n\n",                    // one space after the colon is dropped
      "data:{\"b\":2}\r\n\r\n",                 // no space, CRLF
      "data: line1\ndata:line2\n\n",            // several data lines join with \n
      "id: 7\nretry: 100\nfoo: bar\ndata: x\n\n", // other fields are ignored
      "event: error\ndata: {\"error\":\"boom\"}\r\r",
      ":\n\n",                                  // llama.cpp ping
      "data\n\n",                               // a field without a colon: empty data
      "data: [DONE]\n\n",
      "data: unfinished");                      // dropped at EOF
    assertEquals(List.of(
      new SseDecoder.Event("message", "{\"a\":1}"),
      new SseDecoder.Event("message", "{\"b\":2}"),
      new SseDecoder.Event("message", "line1\nline2"),
      new SseDecoder.Event("message", "x"),
      new SseDecoder.Event("error", "{\"error\":\"boom\"}"),
      new SseDecoder.Event("message", ""),
      new SseDecoder.Event("message", "[DONE]")), got);
  }

  @Test
  void sseEventsSplitAnywhereDecodeTheSame() {
    String stream = "data: {\"choices\":[{\"delta\":{\"content\":\"wö😀rld\"}}]}\r\n\r\ndata: [DONE]\r\n\r\n";
    byte[] bytes = stream.getBytes(StandardCharsets.UTF_8);
    for (int cut = 0; cut <= bytes.length; cut++) {
      List<SseDecoder.Event> out = new ArrayList<>();
      SseDecoder d = new SseDecoder(out::add, 4096);
      d.feed(Buffer.buffer(java.util.Arrays.copyOfRange(bytes, 0, cut)));
      d.feed(Buffer.buffer(java.util.Arrays.copyOfRange(bytes, cut, bytes.length)));
      assertEquals(List.of(new SseDecoder.Event("message", "{\"choices\":[{\"delta\":{\"content\":\"wö😀rld\"}}]}"),
        new SseDecoder.Event("message", "[DONE]")), out, "split at byte " + cut);
    }
  }

  @Test
  void manyDataLinesCannotGrowAnEventWithoutBound() {
    SseDecoder d = new SseDecoder(e -> {}, 64);
    assertThrows(IllegalStateException.class, () -> {
      for (int i = 0; i < 100; i++) {
        d.feed(Buffer.buffer("data: 0123456789\n"));
      }
    });
  }
}
