package io.tokenbus.gateway.bridge;

import io.tokenbus.gateway.GatewayConfig;
import io.tokenbus.gateway.api.RateLimiter;
import io.tokenbus.gateway.jobs.JobService;
import io.tokenbus.gateway.sse.SseEndpoint.StreamCounter;
import io.tokenbus.gateway.stream.JobStreamHub;
import io.vertx.core.Vertx;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.handler.BodyHandler;
import io.vertx.ext.web.handler.sockjs.SockJSHandler;
import io.vertx.ext.web.handler.sockjs.SockJSHandlerOptions;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The SockJS event-bus bridge at {@code /eventbus}. It speaks the Vert.x bridge wire protocol so the stock browser
 * client works unchanged, but job addresses are served from this node's {@link JobStreamHub} (one cluster
 * subscription per job per node, replay merged with live) instead of one cluster registration per socket. Only the
 * addresses of the v1 contract are permitted.
 */
public final class EventBusBridge {
  private final Vertx vertx;
  private final GatewayConfig config;
  private final JobService jobs;
  private final JobStreamHub hub;
  private final RateLimiter submits;
  private final StreamCounter streams;
  private final Set<BridgeSocket> sockets = new HashSet<>();
  private long pingSweep = -1;

  public EventBusBridge(Vertx vertx, GatewayConfig config, JobService jobs, JobStreamHub hub, RateLimiter submits,
                        StreamCounter streams) {
    this.vertx = vertx;
    this.config = config;
    this.jobs = jobs;
    this.hub = hub;
    this.submits = submits;
    this.streams = streams;
  }

  public void mount(Router router) {
    // xhr transports POST frames: they need a body handler (bounded like every body).
    router.route("/eventbus/*").handler(BodyHandler.create().setBodyLimit(config.maxBodyBytes()));
    SockJSHandler sockJS = SockJSHandler.create(vertx, new SockJSHandlerOptions().setRegisterWriteHandler(false));
    router.route("/eventbus/*").subRouter(sockJS.socketHandler(sock -> {
      BridgeSocket s = new BridgeSocket(sock, config, jobs, hub, submits, this);
      if (!streams.tryOpen()) {
        s.refuse("this gateway serves " + config.maxStreams() + " streams already");
        return;
      }
      sockets.add(s);
      s.start();
    }));
    pingSweep = vertx.setPeriodic(Math.max(100, config.pingTimeoutMs() / 2), id -> {
      long now = System.currentTimeMillis();
      List.copyOf(sockets).forEach(s -> s.closeIfSilentSince(now - config.pingTimeoutMs()));
    });
  }

  void closed(BridgeSocket s) {
    if (sockets.remove(s)) {
      streams.closed();
    }
  }

  public int sockets() {
    return sockets.size();
  }

  public void close() {
    vertx.cancelTimer(pingSweep);
  }
}
