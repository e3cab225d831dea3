package io.tokenbus.gateway.limits;

import io.vertx.core.Vertx;
import io.vertx.core.http.HttpConnection;
import java.util.HashMap;
import java.util.Map;

/**
 * Closes a connection that has not delivered a complete first request head within {@code headerTimeoutMs} of being
 * accepted. Vert.x 5.0.7 has no such server option; its idle timeout bounds the same case only at the (much longer)
 * idle timeout: its handler sits behind the HTTP decoder, so bytes of an unfinished head are not activity. The idle
 * timeout must stay longer than the stream heartbeat, so this shorter deadline is a timer per connection.
 *
 * <p>After the first request, the idle timeout alone applies: a kept-alive connection that trickles its next head
 * is closed when the idle timeout passes after its last complete message. Event-loop confined.
 */
public final class HeaderDeadlines {
  private final Vertx vertx;
  private final long headerTimeoutMs;
  private final Map<HttpConnection, Long> waiting = new HashMap<>();

  public HeaderDeadlines(Vertx vertx, long headerTimeoutMs) {
    this.vertx = vertx;
    this.headerTimeoutMs = headerTimeoutMs;
  }

  /** {@code HttpServer.connectionHandler}: the connection was accepted. */
  public void opened(HttpConnection connection) {
    waiting.put(connection, vertx.setTimer(headerTimeoutMs, id -> {
      if (waiting.remove(connection) != null) {
        connection.close();
      }
    }));
    connection.closeHandler(v -> cancel(connection));
  }

  /** A request head is complete on this connection. */
  public void requestArrived(HttpConnection connection) {
    cancel(connection);
  }

  /** Connections that have not completed their first request head yet. */
  public int waiting() {
    return waiting.size();
  }

  private void cancel(HttpConnection connection) {
    Long timer = waiting.remove(connection);
    if (timer != null) {
      vertx.cancelTimer(timer);
    }
  }
}
