package io.tokenbus.gateway.limits;

import io.tokenbus.events.ErrorCode;
import io.tokenbus.events.TokenbusException;
import io.tokenbus.gateway.GatewayConfig;
import io.tokenbus.gateway.api.HttpErrors;
import io.tokenbus.gateway.api.JobsApi;
import io.tokenbus.gateway.sse.SseEndpoint;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import java.util.HashMap;
import java.util.Map;

/**
 * Admission of long-lived streams (SSE responses and bridge sockets) on this node. Three limits, each refused with
 * 429 {@code too_many_jobs}:
 * <ul>
 *   <li>node: {@code maxStreams} open at once;</li>
 *   <li>client address: {@code maxStreamsPerAddress}, so one client cannot take the whole node;</li>
 *   <li>anonymous: bridge sockets that have not registered for a job with a valid token take at most
 *   {@code maxAnonymousSockets}, so connections without a token can never hold the slots token holders need. SSE
 *   streams present their token before they open and are never anonymous.</li>
 * </ul>
 * Event-loop confined (the gateway's HTTP server runs on one event loop).
 */
public final class StreamLimits implements SseEndpoint.StreamCounter {
  private final GatewayConfig config;
  private final Map<String, Integer> perAddress = new HashMap<>();
  private int open;
  private int anonymous;

  private final ClientAddresses clients;

  public StreamLimits(GatewayConfig config) {
    this.config = config;
    this.clients = new ClientAddresses(config.connections().trustedProxies());
  }

  /** The client behind an HTTP request (the peer, or what a trusted proxy forwarded). */
  public String client(RoutingContext ctx) {
    return clients.of(ctx.request().remoteAddress(), ctx.request().headers());
  }

  /** The client behind a bridge socket. */
  public String client(io.vertx.ext.web.handler.sockjs.SockJSSocket sock) {
    return clients.of(sock.remoteAddress(), sock.headers());
  }

  /** Node-wide slot (the SSE endpoint takes it after checking the token; the address slot is already held). */
  @Override
  public boolean tryOpen() {
    if (open >= config.maxStreams()) {
      return false;
    }
    open++;
    return true;
  }

  @Override
  public void closed() {
    open--;
  }

  @Override
  public int getAsInt() {
    return open;
  }

  public int anonymous() {
    return anonymous;
  }

  /** Route in front of the SSE endpoint: holds one of the client address's slots for the response's lifetime. */
  public void mountSse(Router router, String path) {
    router.get(path).handler(this::sse);
  }

  private void sse(RoutingContext ctx) {
    String address = client(ctx);
    try {
      acquireAddress(address);
    } catch (TokenbusException e) {
      HttpErrors.fail(ctx, e);
      return;
    }
    // Runs once when the response ends, is reset or its connection closes.
    ctx.addEndHandler(ar -> releaseAddress(address));
    ctx.next();
  }

  /** Admits a new bridge socket as anonymous, or throws 429 {@code too_many_jobs}. */
  public Slot openSocket(String address) {
    if (open >= config.maxStreams()) {
      throw tooMany("this gateway serves " + config.maxStreams() + " streams already");
    }
    if (anonymous >= config.connections().maxAnonymousSockets()) {
      throw tooMany("this gateway holds " + config.connections().maxAnonymousSockets()
        + " sockets that follow no job yet; try again shortly");
    }
    acquireAddress(address);
    open++;
    anonymous++;
    return new Slot(address);
  }

  private void acquireAddress(String address) {
    int n = perAddress.getOrDefault(address, 0);
    if (n >= config.connections().maxStreamsPerAddress()) {
      throw tooMany("this client address has " + n + " streams open on this gateway already (limit "
        + config.connections().maxStreamsPerAddress() + ")");
    }
    perAddress.put(address, n + 1);
  }

  private void releaseAddress(String address) {
    // Entries leave the map at zero: its size is bounded by the open streams.
    perAddress.computeIfPresent(address, (a, n) -> n > 1 ? n - 1 : null);
  }

  private static TokenbusException tooMany(String message) {
    return new TokenbusException(ErrorCode.TOO_MANY_JOBS, message);
  }

  /** One bridge socket's slots: node, address and, until it registers for a job, the anonymous share. */
  public final class Slot {
    private final String address;
    private boolean anonymousSlot = true;
    private boolean released;

    private Slot(String address) {
      this.address = address;
    }

    public boolean isAnonymous() {
      return anonymousSlot && !released;
    }

    /** The socket registered for a job with a valid token: it leaves the anonymous share. */
    public void authenticated() {
      if (anonymousSlot && !released) {
        anonymousSlot = false;
        anonymous--;
      }
    }

    /** Idempotent: a socket may be reported closed more than once. */
    public void release() {
      if (!released) {
        released = true;
        if (anonymousSlot) {
          anonymous--;
        }
        open--;
        releaseAddress(address);
      }
    }
  }
}
