package io.tokenbus.worker.backend;

import io.vertx.core.buffer.Buffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.function.Consumer;

/**
 * Splits a byte stream into UTF-8 lines ending in CRLF, LF or CR (NDJSON and SSE framing). Reads may split anywhere,
 * even inside a UTF-8 character or between CR and LF, so bytes are buffered and only whole lines are decoded. A
 * leading BOM is dropped. A line longer than the limit fails with an {@link IllegalStateException} quoting its start:
 * the buffer is bounded.
 */
public final class LineDecoder {
  private final Consumer<String> onLine;
  private final int maxLineBytes;
  private byte[] line = new byte[256];
  private int length;
  private boolean lastWasCr;
  private boolean first = true;

  public LineDecoder(Consumer<String> onLine, int maxLineBytes) {
    this.onLine = onLine;
    this.maxLineBytes = maxLineBytes;
  }

  public void feed(Buffer chunk) {
    int n = chunk.length();
    int start = 0;
    for (int i = 0; i < n; i++) {
      byte b = chunk.getByte(i);
      if (b != '\n' && b != '\r') {
        continue;
      }
      if (b == '\n' && lastWasCr && i == start && length == 0) {
        // the LF of a CRLF whose CR ended the previous line
        lastWasCr = false;
        start = i + 1;
        continue;
      }
      append(chunk, start, i);
      emit();
      lastWasCr = b == '\r';
      start = i + 1;
    }
    if (start < n) {
      lastWasCr = false;
      append(chunk, start, n);
    }
  }

  /** True when bytes of an unterminated line are buffered (a stream that ends mid-line). */
  public boolean hasPartialLine() {
    return length > 0;
  }

  /** Delivers a buffered unterminated last line, if any (NDJSON allows the last line without LF). */
  public void finish() {
    if (length > 0) {
      emit();
    }
  }

  private void append(Buffer chunk, int from, int to) {
    int add = to - from;
    if (add == 0) {
      return;
    }
    if (length + add > maxLineBytes) {
      throw new UnreadableStream("a line longer than " + maxLineBytes + " bytes", lineStart(chunk, from, to));
    }
    if (length + add > line.length) {
      line = Arrays.copyOf(line, Math.min(maxLineBytes, Math.max(line.length * 2, length + add)));
    }
    chunk.getBytes(from, to, line, length);
    length += add;
  }

  /** Enough of the line's first bytes for an excerpt: the buffered part, then the chunk's. */
  private String lineStart(Buffer chunk, int from, int to) {
    int bytes = 4 * UnreadableStream.EXCERPT_CHARS + 4; // UTF-8: at least EXCERPT_CHARS + 1 characters
    int buffered = Math.min(length, bytes);
    return new String(line, 0, buffered, StandardCharsets.UTF_8) + chunk.getString(from, Math.min(to, from + bytes - buffered));
  }

  private void emit() {
    String s = new String(line, 0, length, StandardCharsets.UTF_8);
    length = 0;
    if (line.length > 4096) {
      line = new byte[256]; // one huge line must not pin its buffer for the rest of the stream
    }
    if (first) {
      first = false;
      if (s.startsWith("\uFEFF")) {
        s = s.substring(1);
      }
    }
    onLine.accept(s);
  }
}
