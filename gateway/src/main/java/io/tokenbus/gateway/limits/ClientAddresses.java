package io.tokenbus.gateway.limits;

import io.vertx.core.MultiMap;
import io.vertx.core.net.SocketAddress;
import java.util.List;
import java.util.Set;

/**
 * Who a connection belongs to, for per-client limits. The TCP peer, unless the peer is a listed reverse proxy: then
 * the right-most address of {@code X-Forwarded-For} that is not itself a listed proxy (the left part of the header is
 * whatever the client sent and cannot be trusted). Without listed proxies the header is ignored, so no client can
 * pick its own bucket.
 */
public final class ClientAddresses {
  private final Set<String> trusted;

  public ClientAddresses(List<String> trustedProxies) {
    this.trusted = Set.copyOf(trustedProxies);
  }

  public String of(SocketAddress peer, MultiMap headers) {
    String direct = peer == null ? "unknown" : peer.hostAddress();
    String forwarded = headers == null || !trusted.contains(direct) ? null : headers.get("x-forwarded-for");
    if (forwarded == null) {
      return direct;
    }
    String[] hops = forwarded.split(",");
    for (int i = hops.length - 1; i >= 0; i--) {
      String hop = hops[i].trim();
      if (!hop.isEmpty() && !trusted.contains(hop)) {
        return hop;
      }
    }
    return direct;
  }
}
