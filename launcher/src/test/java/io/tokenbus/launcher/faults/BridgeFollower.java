package io.tokenbus.launcher.faults;

import io.tokenbus.testing.Patience;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketConnectOptions;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * Follows a job over the event-bus bridge's raw websocket ({@code ws://127.0.0.1:<port>/eventbus/websocket}, JSON
 * frames) with the Vert.x websocket client (the JDK 17 client sends {@code Content-Length: 0} on the upgrade, which
 * the gateway's body handler on {@code /eventbus/*} turns into a 500), as the stock client does: registers {@code job.<id>.chunk} and {@code job.<id>.status} with
 * {@code headers.token}, then sends {@code job.replay} after its contiguous prefix (after
 * {@link Options#replayDelayMs}) with a fresh reply address, and pings every 5 s. Chunks come from {@code rec} frames
 * and from replay answers (a {@code hasMore} answer is followed by another replay; an answer with no chunks that still
 * says {@code hasMore} is recorded as the final error {@code replay_stuck}: a client could only loop). The terminal is
 * the {@code rec} on the status address. An {@code err} for the replay or a registration ends the follow with the code
 * of its message ({@code "<code>: <text>"}), except 429/5xx, retried after {@link Options#retryMs}.
 */
public final class BridgeFollower extends JobFollower {
  private static final Set<Integer> RETRY_STATUS = Set.of(429, 500, 503, 504);

  private final String chunkAddress;
  private final String statusAddress;
  private final Map<Integer, Conn> conns = new ConcurrentHashMap<>();

  public BridgeFollower(Api.Job job, List<Integer> ports, Options options) {
    super("bridge", job, ports, options);
    chunkAddress = "job." + job.jobId() + ".chunk";
    statusAddress = "job." + job.jobId() + ".status";
  }

  public static BridgeFollower follow(Api.Job job, List<Integer> ports, Options options) {
    BridgeFollower f = new BridgeFollower(job, ports, options);
    f.start();
    return f;
  }

  /** The bridge's raw websocket (JSON frames, no SockJS framing). */
  static final String PATH = "/eventbus/websocket";

  @Override
  protected void open(int attempt, int port, long after) {
    Conn c = new Conn(attempt, port);
    conns.put(attempt, c);
    Api.WEBSOCKETS.connect(new WebSocketConnectOptions().setHost("127.0.0.1").setPort(port).setURI(PATH)
        .setConnectTimeout(Math.min(options.silenceMs(), 5000)).setTimeout(Math.min(options.silenceMs(), 5000)))
      .onComplete(ar -> {
        if (ar.failed()) {
          ended(attempt, false, "websocket to port " + port + " failed: " + ar.cause());
          return;
        }
        WebSocket ws = ar.result();
        ws.textMessageHandler(t -> c.frame(t));
        ws.binaryMessageHandler(b -> c.frame(b.toString(StandardCharsets.UTF_8)));
        ws.closeHandler(v -> ended(attempt, true, "websocket on port " + port + " closed " + ws.closeStatusCode() + " " + ws.closeReason()));
        ws.exceptionHandler(e -> ended(attempt, true, "websocket on port " + port + " failed: " + e));
        if (!c.opened(ws) || !current(attempt)) {
          ws.close();
          return;
        }
        activity(attempt);
        JsonObject headers = new JsonObject().put("token", job.token());
        c.send(new JsonObject().put("type", "register").put("address", chunkAddress).put("headers", headers));
        c.send(new JsonObject().put("type", "register").put("address", statusAddress).put("headers", headers));
        c.pinger = Api.TIMERS.scheduleAtFixedRate(() -> c.send(new JsonObject().put("type", "ping")), 5, 5, TimeUnit.SECONDS);
        if (options.replayDelayMs() > 0) {
          Api.TIMERS.schedule(() -> replay(c, after), options.replayDelayMs(), TimeUnit.MILLISECONDS);
        } else {
          replay(c, after);
        }
      });
  }

  private void replay(Conn c, long after) {
    if (!current(c.attempt)) {
      return;
    }
    String reply = UUID.randomUUID().toString();
    c.replyAddress = reply;
    c.send(new JsonObject().put("type", "send").put("address", "job.replay").put("replyAddress", reply)
      .put("body", new JsonObject().put("jobId", job.jobId()).put("token", job.token()).put("afterSequence", after)));
  }

  @Override
  protected void abort(int attempt) {
    Conn c = conns.remove(attempt);
    if (c != null) {
      c.close();
    }
  }

  private void frame(Conn c, String text) {
    activity(c.attempt);
    if (!current(c.attempt)) {
      return;
    }
    JsonObject f;
    try {
      f = new JsonObject(text);
    } catch (DecodeException e) {
      log.transientError("unparseable frame " + text);
      return;
    }
    String type = f.getString("type");
    String address = f.getString("address");
    if ("rec".equals(type)) {
      JsonObject body = f.getValue("body") instanceof JsonObject b ? b : new JsonObject();
      if (chunkAddress.equals(address)) {
        delivered(c.attempt);
        log.chunk(body.getLong("sequence"), body.getString("chunk"));
      } else if (statusAddress.equals(address)) {
        delivered(c.attempt);
        log.terminal(body);
      } else if (address != null && address.equals(c.replyAddress)) {
        delivered(c.attempt);
        JsonArray chunks = body.getJsonArray("chunks", new JsonArray());
        for (int i = 0; i < chunks.size(); i++) {
          JsonObject ch = chunks.getJsonObject(i);
          log.chunk(ch.getLong("sequence"), ch.getString("chunk"));
        }
        if (body.getBoolean("hasMore", false)) {
          if (chunks.isEmpty()) {
            JsonObject shown = body.copy();
            shown.remove("chunks");
            if (shown.getValue("terminal") instanceof JsonObject t) {
              t.remove("result");
            }
            log.fail("replay_stuck", "job.replay answered no chunks with hasMore: " + shown.encode() + " on port " + c.port);
          } else {
            replay(c, log.prefix());
          }
        }
      }
    } else if ("err".equals(type)) {
      int status = f.getInteger("failureCode", 0);
      String message = String.valueOf(f.getValue("message"));
      int sep = message.indexOf(':');
      String code = sep > 0 ? message.substring(0, sep) : "err_" + status;
      if (address == null) {
        log.transientError("address-less err " + f.encode());
      } else if (RETRY_STATUS.contains(status)) {
        log.transientError("err " + f.encode());
        if (address.equals(c.replyAddress)) {
          Api.TIMERS.schedule(() -> replay(c, log.prefix()), options.retryMs(), TimeUnit.MILLISECONDS);
        } else {
          ended(c.attempt, true, "err " + f.encode());
        }
      } else if (address.equals(c.replyAddress) || address.equals(chunkAddress) || address.equals(statusAddress)) {
        log.fail(code, "err " + f.encode() + " on port " + c.port);
      }
    }
  }

  /**
   * One request on a fresh socket without registering (what a client that only reads history does): the reply or
   * {@code err} frame addressed to the reply address, or null if none came within {@code timeout}.
   */
  public static JsonObject request(int port, String address, JsonObject body, Duration timeout) throws Exception {
    String reply = UUID.randomUUID().toString();
    CompletableFuture<JsonObject> answer = new CompletableFuture<>();
    WebSocket ws = Api.WEBSOCKETS.connect(new WebSocketConnectOptions().setHost("127.0.0.1").setPort(port).setURI(PATH)
      .setTimeout(5000)).toCompletionStage().toCompletableFuture().get(Patience.SECONDS, TimeUnit.SECONDS);
    try {
      ws.handler(b -> {
        JsonObject f = new JsonObject(b.toString(StandardCharsets.UTF_8));
        if (reply.equals(f.getString("address"))) {
          answer.complete(f);
        }
      });
      ws.writeTextMessage(new JsonObject().put("type", "send").put("address", address).put("replyAddress", reply)
        .put("body", body).encode());
      return answer.completeOnTimeout(null, timeout.toMillis(), TimeUnit.MILLISECONDS).get();
    } finally {
      ws.close();
    }
  }

  private final class Conn {
    final int attempt;
    final int port;
    private WebSocket ws;
    volatile String replyAddress;
    volatile ScheduledFuture<?> pinger;
    private boolean closed;

    Conn(int attempt, int port) {
      this.attempt = attempt;
      this.port = port;
    }

    /** False if the connection was given up while it was being opened. */
    synchronized boolean opened(WebSocket w) {
      ws = w;
      return !closed;
    }

    synchronized void send(JsonObject frame) {
      if (ws != null && !closed) {
        ws.writeTextMessage(frame.encode());
      }
    }

    void frame(String text) {
      synchronized (BridgeFollower.this) {
        BridgeFollower.this.frame(this, text);
      }
    }

    synchronized void close() {
      closed = true;
      if (pinger != null) {
        pinger.cancel(false);
      }
      if (ws != null) {
        ws.close();
      }
    }
  }
}
