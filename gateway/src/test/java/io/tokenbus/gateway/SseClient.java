package io.tokenbus.gateway;

import io.tokenbus.testing.Patience;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.core.parsetools.RecordParser;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/** A real SSE client over HTTP/1.1 that parses the event stream as a browser would. */
final class SseClient implements AutoCloseable {
  record Event(String id, String event, JsonObject data) {}

  static final Event END = new Event(null, "<end>", null);

  final int status;
  final String contentType;
  final String body;
  private final HttpClient client;
  private final LinkedBlockingQueue<Event> events = new LinkedBlockingQueue<>();
  private final LinkedBlockingQueue<String> comments = new LinkedBlockingQueue<>();

  private SseClient(HttpClient client, HttpClientResponse response, String body) {
    this.client = client;
    this.status = response.statusCode();
    this.contentType = response.getHeader("content-type");
    this.body = body;
  }

  static SseClient connect(Vertx vertx, int port, String path, String lastEventId) {
    return connect(vertx, port, path, lastEventId, null);
  }

  /** @param localAddress the client address to connect from (another 127.x.y.z), or null for the default */
  static SseClient connect(Vertx vertx, int port, String path, String lastEventId, String localAddress) {
    HttpClient client = vertx.createHttpClient(new HttpClientOptions().setLocalAddress(localAddress));
    RequestOptions o = new RequestOptions().setMethod(HttpMethod.GET).setHost("127.0.0.1").setPort(port).setURI(path)
      .addHeader("accept", "text/event-stream");
    if (lastEventId != null) {
      o.addHeader("last-event-id", lastEventId);
    }
    // Handlers are attached in send's own callback, on the event loop, so no byte arrives before them (chained after
    // request(), the callback could run on the test's thread after the response had ended: eclipse-vertx/vert.x#6038).
    return client.request(o).compose(req -> req.send().compose(response -> {
      if (response.statusCode() != 200) {
        return response.body().map(b -> new SseClient(client, response, b.toString()));
      }
      SseClient c = new SseClient(client, response, null);
      String[] fields = new String[3]; // id, event, data
      RecordParser parser = RecordParser.newDelimited("\n", line -> {
        String l = line.toString();
        if (l.isEmpty()) {
          if (fields[2] != null) {
            c.events.add(new Event(fields[0], fields[1], new JsonObject(fields[2])));
          }
          fields[0] = fields[1] = fields[2] = null;
        } else if (l.startsWith("id: ")) {
          fields[0] = l.substring(4);
        } else if (l.startsWith("event: ")) {
          fields[1] = l.substring(7);
        } else if (l.startsWith("data: ")) {
          fields[2] = l.substring(6);
        } else if (l.startsWith(":")) {
          c.comments.add(l);
        }
      });
      response.handler(parser);
      response.endHandler(v -> c.events.add(END));
      response.exceptionHandler(e -> c.events.add(END));
      return io.vertx.core.Future.succeededFuture(c);
    })).await();
  }

  /** Next event; fails the test if none comes within {@link Patience#MILLIS}. */
  Event next() {
    try {
      Event e = events.poll(Patience.MILLIS, TimeUnit.MILLISECONDS);
      if (e == null) {
        throw new AssertionError("no SSE event within " + Patience.MILLIS + " ms");
      }
      return e;
    } catch (InterruptedException ex) {
      throw new IllegalStateException(ex);
    }
  }

  /** Next comment line (heartbeat), waiting up to the given time; fails the test if none comes. */
  String comment(long timeoutMs) {
    try {
      String c = comments.poll(timeoutMs, TimeUnit.MILLISECONDS);
      if (c == null) {
        throw new AssertionError("no SSE comment within " + timeoutMs + " ms");
      }
      return c;
    } catch (InterruptedException ex) {
      throw new IllegalStateException(ex);
    }
  }

  @Override
  public void close() {
    client.close();
  }
}
