package io.tokenbus.worker.backend;

import io.vertx.core.json.DecodeException;

/**
 * A line or event of a provider's stream that cannot be read: what was wrong with it and the start of it, so the
 * person reading the job's {@code backend_protocol_error} sees what the provider sent. Never the JSON parser's own
 * text, which names its internals and its position in a buffer the reader never saw.
 */
final class UnreadableStream extends IllegalStateException {
  static final int EXCERPT_CHARS = 120;

  /** @param what e.g. {@code "a line that is not a JSON object"}; completes "{backend} sent ..." */
  UnreadableStream(String what, String text) {
    super(what + ": " + excerpt(text));
  }

  /**
   * Reads one line or event with {@code read}: JSON that does not parse, or parses to another shape than the wire
   * format's, becomes an UnreadableStream quoting it.
   *
   * @param unit {@code "a line"} or {@code "an event"}
   */
  static void reading(String unit, String text, Runnable read) {
    try {
      read.run();
    } catch (DecodeException e) {
      throw new UnreadableStream(unit + " that is not a JSON object", text);
    } catch (ClassCastException e) {
      throw new UnreadableStream(unit + " of an unexpected shape", text);
    }
  }

  /** The first {@link #EXCERPT_CHARS} characters on one line: control and line-separator characters escaped. */
  static String excerpt(String text) {
    int n = Math.min(text.length(), EXCERPT_CHARS);
    if (n < text.length() && Character.isHighSurrogate(text.charAt(n - 1))) {
      n--; // do not split a character in two
    }
    StringBuilder b = new StringBuilder(n + 8);
    for (int i = 0; i < n; i++) {
      char c = text.charAt(i);
      switch (c) {
        case '\n' -> b.append("\\n");
        case '\r' -> b.append("\\r");
        case '\t' -> b.append("\\t");
        default -> {
          if (Character.isISOControl(c) || c == '\u2028' || c == '\u2029') {
            b.append(String.format("\\u%04x", (int) c));
          } else {
            b.append(c);
          }
        }
      }
    }
    return n < text.length() ? b.append('…').toString() : b.toString();
  }
}
