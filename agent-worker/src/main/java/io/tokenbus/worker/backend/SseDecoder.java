package io.tokenbus.worker.backend;

import io.vertx.core.buffer.Buffer;
import java.util.function.Consumer;

/**
 * Server-sent events per the WHATWG rules (event stream interpretation): lines end in CRLF, LF or CR (see
 * {@link LineDecoder}); a blank line dispatches the event; several {@code data:} lines join with {@code \n}; one space
 * after the colon is dropped; lines starting with {@code :} are comments (keep-alives); {@code id}, {@code retry} and
 * unknown fields are ignored; an event without data is not dispatched; an unfinished event at EOF is dropped.
 */
public final class SseDecoder {
  /** One dispatched event: its {@code event:} type ({@code message} when none was given) and its data. */
  public record Event(String type, String data) {}

  private final LineDecoder lines;
  private final int maxEventBytes;
  private final StringBuilder data = new StringBuilder();
  private boolean hasData;
  private String type;

  public SseDecoder(Consumer<Event> onEvent, int maxEventBytes) {
    this.maxEventBytes = maxEventBytes;
    this.lines = new LineDecoder(line -> {
      if (line.isEmpty()) {
        if (hasData) {
          onEvent.accept(new Event(type == null ? "message" : type, data.toString()));
        }
        data.setLength(0);
        hasData = false;
        type = null;
        return;
      }
      if (line.charAt(0) == ':') {
        return;
      }
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
        // Many data lines make one event: bound the event, not only each line.
        if (data.length() + value.length() > this.maxEventBytes) {
          throw new UnreadableStream("an event longer than " + this.maxEventBytes + " characters", data.toString());
        }
        data.append(value);
        hasData = true;
      } else if (field.equals("event")) {
        type = value;
      }
    }, maxEventBytes);
  }

  public void feed(Buffer chunk) {
    lines.feed(chunk);
  }
}
