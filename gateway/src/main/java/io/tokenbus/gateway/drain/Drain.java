package io.tokenbus.gateway.drain;

import io.tokenbus.events.ErrorCode;
import io.tokenbus.events.TokenbusException;
import io.tokenbus.gateway.GatewayConfig;
import io.tokenbus.gateway.api.HttpErrors;
import io.vertx.core.Vertx;
import io.vertx.core.internal.logging.Logger;
import io.vertx.core.internal.logging.LoggerFactory;
import io.vertx.ext.web.RoutingContext;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The node's clients (SSE streams, bridge sockets) and what happens to them when it drains: each is told to leave
 * ({@link Client#leave}), spread evenly over {@link GatewayConfig.Drain#spreadMs} in random order, so that the
 * reconnects reach the other gateways as a stream, not a stampede. A client that joins while the node drains is
 * told at once. Event-loop confined (the gateway's HTTP server runs on one event loop); {@link #draining()} may be
 * read from any thread.
 */
public final class Drain {
  private static final Logger log = LoggerFactory.getLogger(Drain.class);
  /** Granularity of the spread: one timer, a slice of the clients per tick, rather than one timer per client. */
  private static final long TICK_MS = 50;
  /** Bounds of the reconnect delay handed to each client ({@code retry:} on SSE). */
  static final long MIN_RETRY_MS = 250;
  static final long MAX_RETRY_MS = 1000;

  /** A long-lived client connection of this node. */
  public interface Client {
    /**
     * Tell the client to reconnect elsewhere after about {@code retryMs} and resume from what it has, then close
     * (and {@link #remove} itself). Called once.
     */
    void leave(long retryMs);
  }

  private final Vertx vertx;
  private final GatewayConfig.Drain config;
  private final Set<Client> clients = new LinkedHashSet<>();
  private volatile boolean draining;
  private long timer = -1;

  public Drain(Vertx vertx, GatewayConfig.Drain config) {
    this.vertx = vertx;
    this.config = config;
  }

  public boolean draining() {
    return draining;
  }

  public void add(Client c) {
    if (draining) {
      // Opened while the node drains (its request was already in): on the next turn, once it is set up.
      vertx.runOnContext(v -> c.leave(retryMs()));
      return;
    }
    clients.add(c);
  }

  public void remove(Client c) {
    clients.remove(c);
  }

  /**
   * Route in front of everything: a request that reaches a draining node (pipelined behind a stream, or sent in
   * the moment before the listener closed) is answered 503 {@code draining} with {@code Retry-After} and its
   * connection closed, so that the client's next attempt opens a connection the load balancer sends elsewhere.
   */
  public void gate(RoutingContext ctx) {
    if (!draining) {
      ctx.next();
    } else {
      refuse(ctx);
    }
  }

  /** 503 {@code draining}, {@code Retry-After: 1}, and the connection closed after the answer. */
  public void refuse(RoutingContext ctx) {
    ctx.response().putHeader("retry-after", "1").putHeader("connection", "close");
    HttpErrors.fail(ctx, new TokenbusException(ErrorCode.DRAINING, "this gateway is shutting down; connect again"));
  }

  /** Starts the drain: from now on the node is not ready and every client is told to leave within the spread. */
  public void start() {
    if (draining) {
      return;
    }
    draining = true;
    List<Client> leaving = new ArrayList<>(clients);
    Collections.shuffle(leaving, ThreadLocalRandom.current());
    long ticks = Math.max(1, config.spreadMs() / TICK_MS);
    int perTick = (int) Math.max(1, (leaving.size() + ticks - 1) / ticks);
    log.info("draining: " + leaving.size() + " clients told to reconnect elsewhere over " + config.spreadMs()
      + " ms; closing at the latest " + config.deadlineMs() + " ms from now");
    int[] next = {0};
    Runnable slice = () -> {
      for (int n = 0; n < perTick && next[0] < leaving.size(); n++) {
        Client c = leaving.get(next[0]++);
        if (clients.remove(c)) { // gone by itself meanwhile otherwise
          c.leave(retryMs());
        }
      }
      if (next[0] >= leaving.size() && timer >= 0) {
        vertx.cancelTimer(timer);
        timer = -1;
      }
    };
    slice.run();
    if (next[0] < leaving.size()) {
      timer = vertx.setPeriodic(TICK_MS, id -> slice.run());
    }
  }

  /** Stops the spread (the deadline passed or the node closes): whatever is still open is closed with the server. */
  public void close() {
    if (timer >= 0) {
      vertx.cancelTimer(timer);
      timer = -1;
    }
  }

  /** Clients told to leave in the same tick still reconnect at different moments. */
  private static long retryMs() {
    return ThreadLocalRandom.current().nextLong(MIN_RETRY_MS, MAX_RETRY_MS + 1);
  }
}
