package io.tokenbus.gateway.limits;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.vertx.core.MultiMap;
import io.vertx.core.net.SocketAddress;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Per-client limits behind a reverse proxy (issue 8, section 4): before, every user behind an Ingress shared one bucket. */
class ClientAddressesTest {
  private static final SocketAddress PROXY = SocketAddress.inetSocketAddress(40000, "10.0.0.5");
  private static final SocketAddress DIRECT = SocketAddress.inetSocketAddress(40000, "203.0.113.9");

  private static MultiMap xff(String v) {
    return MultiMap.caseInsensitiveMultiMap().add("X-Forwarded-For", v);
  }

  @Test
  void aListedProxyNamesTheClientAnyoneElseIsTheClient() {
    ClientAddresses c = new ClientAddresses(List.of("10.0.0.5", "10.0.0.6"));
    assertEquals("198.51.100.7", c.of(PROXY, xff("198.51.100.7")));
    assertEquals("203.0.113.9", c.of(DIRECT, xff("198.51.100.7")), "a client cannot choose its bucket");
    assertEquals("10.0.0.5", c.of(PROXY, MultiMap.caseInsensitiveMultiMap()), "no header: the proxy itself");
  }

  @Test
  void theRightMostHopThatIsNotAProxyCountsNotWhatTheClientPrepended() {
    ClientAddresses c = new ClientAddresses(List.of("10.0.0.5", "10.0.0.6"));
    assertEquals("198.51.100.7", c.of(PROXY, xff("1.2.3.4, 198.51.100.7, 10.0.0.6")));
  }

  @Test
  void withoutListedProxiesTheHeaderIsIgnored() {
    assertEquals("10.0.0.5", new ClientAddresses(List.of()).of(PROXY, xff("198.51.100.7")));
  }
}
