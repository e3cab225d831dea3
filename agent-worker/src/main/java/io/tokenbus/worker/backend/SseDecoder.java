package io.tokenbus.worker.backend;

import io.vertx.core.buffer.Buffer;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.function.Consumer;

/**
 * Server-sent events per the WHATWG rules: lines end in CRLF, LF or CR; reads may split anywhere (even inside a UTF-8
 * character), so bytes are buffered and only whole lines decoded; a blank line dispatches the event; several
 * {@code data:} lines join with {@code \n}; one space after the colon is dropped; {@code :} lines are comments; other
 * fields are ignored; a leading BOM is stripped. Only {@code data} is delivered: that is all the chat APIs use.
 */
public final class SseDecoder {
  private final LineSplitter lines;
  private final StringBuilder data = new StringBuilder();
  private boolean hasData;

  public SseDecoder(Consumer<String> onEvent, int maxLineBytes) {
    this.lines = new LineSplitter(line -> {
      if (line.isEmpty()) {
        if (hasData) {
          onEvent.accept(data.toString());
        }
        data.setLength(0);
        hasData = false;
      } else if (line.charAt(0) != ':') {
        int colon = line.indexOf(':');
        String field = colon < 0 ? line : line.substring(0, colon);
        String value = colon < 0 ? "" : line.substring(colon + 1);
        if (value.startsWith(" ")) {
          value = value.substring(1);
        }
        if (field.equals("data")) {
          if (hasData) {
            data.append('\n');
          }
          data.append(value);
          hasData = true;
        }
      }
    }, maxLineBytes);
  }

  public void feed(Buffer chunk) {
    lines.feed(chunk);
  }

  /** Splits bytes into UTF-8 lines ending in CRLF, LF or CR; a line over the limit fails (bounded buffer). */
  public static final class LineSplitter {
    private final Consumer<String> onLine;
    private final int maxLineBytes;
    private final ByteArrayOutputStream line = new ByteArrayOutputStream();
    private boolean lastWasCr;
    private boolean first = true;

    public LineSplitter(Consumer<String> onLine, int maxLineBytes) {
      this.onLine = onLine;
      this.maxLineBytes = maxLineBytes;
    }

    public void feed(Buffer chunk) {
      for (int i = 0; i < chunk.length(); i++) {
        byte b = chunk.getByte(i);
        if (b == '\n' && lastWasCr) {
          lastWasCr = false;
          continue;
        }
        lastWasCr = b == '\r';
        if (b == '\n' || b == '\r') {
          emit();
        } else {
          if (line.size() >= maxLineBytes) {
            throw new IllegalStateException("line longer than " + maxLineBytes + " bytes");
          }
          line.write(b);
        }
      }
    }

    private void emit() {
      String s = line.toString(StandardCharsets.UTF_8);
      line.reset();
      if (first) {
        first = false;
        if (s.startsWith("\uFEFF")) {
          s = s.substring(1);
        }
      }
      onLine.accept(s);
    }

    /** Bytes of an unterminated last line (a stream cut mid-line). */
    public boolean hasPartialLine() {
      return line.size() > 0;
    }
  }
}
