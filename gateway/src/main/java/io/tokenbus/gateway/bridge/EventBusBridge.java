package io.tokenbus.gateway.bridge;

import io.tokenbus.events.ErrorCode;
import io.tokenbus.events.TokenbusException;
import io.tokenbus.gateway.GatewayConfig;
import io.tokenbus.gateway.GatewayMetrics;
import io.tokenbus.gateway.api.RateLimiter;
import io.tokenbus.gateway.drain.Drain;
import io.tokenbus.gateway.jobs.JobService;
import io.tokenbus.gateway.limits.StreamLimits;
import io.tokenbus.gateway.stream.JobStreamHub;
import io.vertx.core.Vertx;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.handler.BodyHandler;
import io.vertx.ext.web.handler.sockjs.SockJSHandler;
import io.vertx.ext.web.handler.sockjs.SockJSHandlerOptions;
import io.vertx.ext.web.handler.sockjs.SockJSSocket;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The SockJS event-bus bridge at {@code /eventbus}. It speaks the Vert.x bridge wire protocol so the stock browser
 * client works unchanged, but job addresses are served from this node's {@link JobStreamHub} (one cluster
 * subscription per job per node, replay merged with live) instead of one cluster registration per socket. Only the
 * addresses of the v1 contract are permitted.
 *
 * <p>Admission ({@link StreamLimits}): a socket counts against the node, its client address and, until it registers
 * for a job with a valid token, the anonymous share; an anonymous socket is closed at the register deadline. When
 * the node drains, every socket is told so ({@code err} 503 {@code draining}) and closed ({@link Drain}).
 */
public final class EventBusBridge {
  private final Vertx vertx;
  private final GatewayConfig config;
  private final JobService jobs;
  private final JobStreamHub hub;
  private final RateLimiter submits;
  private final StreamLimits limits;
  private final Drain drain;
  private final Map<BridgeSocket, Admitted> sockets = new HashMap<>();
  private long pingSweep = -1;

  /** A socket's slots and, while it is anonymous, its register deadline. */
  private record Admitted(SockJSSocket sock, StreamLimits.Slot slot, long deadline) {}

  public EventBusBridge(Vertx vertx, GatewayConfig config, JobService jobs, JobStreamHub hub, RateLimiter submits,
                        StreamLimits limits, Drain drain) {
    this.vertx = vertx;
    this.drain = drain;
    this.config = config;
    this.jobs = jobs;
    this.hub = hub;
    this.submits = submits;
    this.limits = limits;
  }

  public void mount(Router router) {
    // xhr transports POST frames: they need a body handler (bounded like every body).
    // Only on POST: a body handler on the websocket upgrade (a GET that some clients, the JDK's among them, send with
    // Content-Length: 0) reads the request and the upgrade then fails with 500.
    router.post("/eventbus/*").handler(BodyHandler.create().setBodyLimit(config.maxBodyBytes()));
    // The SockJS heartbeat keeps a socket that waits for tokens from reaching the HTTP idle timeout.
    SockJSHandler sockJS = SockJSHandler.create(vertx, new SockJSHandlerOptions().setRegisterWriteHandler(false)
      .setHeartbeatInterval(config.sseHeartbeatMs()));
    router.route("/eventbus/*").subRouter(sockJS.socketHandler(this::opened));
    pingSweep = vertx.setPeriodic(Math.max(100, config.pingTimeoutMs() / 2), id -> {
      long now = System.currentTimeMillis();
      List.copyOf(sockets.keySet()).forEach(s -> s.closeIfSilentSince(now - config.pingTimeoutMs()));
    });
  }

  private void opened(SockJSSocket sock) {
    String client = limits.client(sock);
    BridgeSocket s = new BridgeSocket(sock, client, config, jobs, hub, submits, this);
    StreamLimits.Slot slot;
    try {
      slot = limits.openSocket(client);
    } catch (TokenbusException e) {
      hub.metrics().answered(GatewayMetrics.BRIDGE, e);
      s.refuse(e.getMessage());
      return;
    }
    long deadline = vertx.setTimer(config.connections().registerDeadlineMs(), id -> registerDeadlinePassed(s));
    sockets.put(s, new Admitted(sock, slot, deadline));
    s.start();
    drain.add(s);
  }

  /** The socket registered for a job with a valid token: it is no longer anonymous. */
  void registered(BridgeSocket s) {
    Admitted a = sockets.get(s);
    if (a != null && a.slot().isAnonymous()) {
      a.slot().authenticated();
      vertx.cancelTimer(a.deadline());
    }
  }

  private void registerDeadlinePassed(BridgeSocket s) {
    Admitted a = sockets.get(s);
    if (a == null || !a.slot().isAnonymous()) {
      return;
    }
    hub.metrics().registrationRefused(ErrorCode.UNAUTHORIZED); // registered nothing in time
    // Address-less err: the stock client hands it to onerror; our client reconnects quietly on 401.
    s.sendAndClose(Frames.err(null, new TokenbusException(ErrorCode.UNAUTHORIZED, "no job was registered with a stream token within "
      + config.connections().registerDeadlineMs() + " ms; connect again when there is a job to follow")));
    closed(s);
  }

  void closed(BridgeSocket s) {
    Admitted a = sockets.remove(s);
    drain.remove(s);
    if (a != null) {
      vertx.cancelTimer(a.deadline());
      a.slot().release();
    }
  }

  public int sockets() {
    return sockets.size();
  }

  public void close() {
    vertx.cancelTimer(pingSweep);
  }
}
