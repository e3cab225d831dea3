package io.tokenbus.gateway;

import io.tokenbus.testing.Patience;
import io.vertx.core.Vertx;
import io.vertx.core.http.ClientWebSocket;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketClientOptions;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.UUID;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A real SockJS client over the websocket transport ({@code /eventbus/<server>/<session>/websocket}) speaking the
 * Vert.x event-bus bridge frames, as {@code @vertx/eventbus-bridge-client.js} does: SockJS {@code o}/{@code h}/
 * {@code a[...]}/{@code c[...]} framing around bridge JSON frames.
 */
final class SockJsClient implements AutoCloseable {
  static final JsonObject CLOSED = new JsonObject().put("type", "<closed>");
  private final WebSocketClient client;
  private final WebSocket ws;
  private final LinkedBlockingQueue<JsonObject> frames = new LinkedBlockingQueue<>();
  private final Vertx vertx;
  private final long pinger;
  /** The server's {@code Sec-WebSocket-Extensions} answer (null when it agreed to none). */
  final String extensions;

  private SockJsClient(Vertx vertx, WebSocketClient client, WebSocketConnectOptions options) {
    this.vertx = vertx;
    this.client = client;
    ClientWebSocket ws = client.webSocket();
    // Handlers go on before the connect: the socket delivers what it already holds (the SockJS open frame follows the
    // handshake at once) as it resumes, before a callback on the connect future could attach them; attached in such a
    // callback they missed the open frame whenever the test thread came late (CI, 29 Nov: no open frame, then the
    // server's 401 at its 30 s register deadline).
    ws.textMessageHandler(this::onText);
    ws.closeHandler(v -> frames.add(CLOSED));
    ws.connect(options).await();
    this.ws = ws;
    this.extensions = ws.headers() == null ? null : ws.headers().get("sec-websocket-extensions");
    this.pinger = vertx.setPeriodic(2000, id -> send(new JsonObject().put("type", "ping")));
  }

  static SockJsClient connect(Vertx vertx, int port) {
    return connect(vertx, port, null);
  }

  /** @param localAddress the client address to connect from (another 127.x.y.z), or null for the default */
  static SockJsClient connect(Vertx vertx, int port, String localAddress) {
    return connect(vertx, port, localAddress, false);
  }

  /** @param offerDeflate offer {@code permessage-deflate} in the handshake, as browsers do */
  static SockJsClient connect(Vertx vertx, int port, String localAddress, boolean offerDeflate) {
    WebSocketClient client = vertx.createWebSocketClient(new WebSocketClientOptions().setLocalAddress(localAddress)
      .setMaxMessageSize(64 * 1024 * 1024).setTryUsePerMessageCompression(offerDeflate));
    String path = "/eventbus/" + (100 + (int) (Math.random() * 800)) + "/" + UUID.randomUUID().toString().replace("-", "") + "/websocket";
    SockJsClient c = new SockJsClient(vertx, client, new WebSocketConnectOptions().setHost("127.0.0.1").setPort(port).setURI(path));
    JsonObject open = c.next();
    if (!"<open>".equals(open.getString("type"))) {
      throw new AssertionError("expected SockJS open frame, got " + open);
    }
    return c;
  }

  private void onText(String text) {
    switch (text.charAt(0)) {
      case 'o' -> frames.add(new JsonObject().put("type", "<open>"));
      case 'h' -> { }
      case 'a' -> new JsonArray(text.substring(1)).forEach(s -> frames.add(new JsonObject((String) s)));
      case 'c' -> frames.add(CLOSED);
      default -> throw new IllegalStateException("unexpected SockJS frame " + text);
    }
  }

  void send(JsonObject frame) {
    ws.writeTextMessage(new JsonArray().add(frame.encode()).encode());
  }

  /** Stops reading the socket (the TCP window closes), as a client that hangs would; it still pings. */
  void stopReading() {
    ws.pause();
  }

  void sendRaw(String payload) {
    ws.writeTextMessage(new JsonArray().add(payload).encode());
  }

  void register(String address, String token) {
    JsonObject f = new JsonObject().put("type", "register").put("address", address);
    if (token != null) {
      f.put("headers", new JsonObject().put("token", token));
    }
    send(f);
  }

  /** Sends a request; the reply (or err) comes back as a frame addressed to the returned reply address. */
  String request(String address, JsonObject body) {
    String reply = UUID.randomUUID().toString();
    send(new JsonObject().put("type", "send").put("address", address).put("body", body).put("replyAddress", reply));
    return reply;
  }

  /** Next frame; fails the test if none comes within {@link Patience#MILLIS}. */
  JsonObject next() {
    JsonObject f = poll(Patience.MILLIS);
    if (f == null) {
      throw new AssertionError("no bridge frame within " + Patience.MILLIS + " ms");
    }
    return f;
  }

  /** Next frame or null if none arrives in time (for asserting that nothing more comes). */
  JsonObject poll(long timeoutMs) {
    try {
      return frames.poll(timeoutMs, TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      throw new IllegalStateException(e);
    }
  }

  @Override
  public void close() {
    vertx.cancelTimer(pinger);
    ws.close();
    client.close();
  }
}
