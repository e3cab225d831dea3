package io.tokenbus.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** A node runs on epoll where Netty ships it (Linux x86-64 and ARM64), and on NIO when told not to. */
class NodesTransportTest {
  private static boolean nativeWith(Map<String, String> env) {
    Node node = Nodes.start(NodeOptions.fromEnv(env, false)).await();
    try {
      return node.vertx().isNativeTransportEnabled();
    } finally {
      node.close().await();
    }
  }

  @Test
  void epollByDefaultOnLinux() {
    assumeTrue(System.getProperty("os.name").equals("Linux")
        && List.of("amd64", "aarch64").contains(System.getProperty("os.arch")),
      "the epoll native library is shipped for Linux x86-64 and ARM64 only");
    assertEquals(true, nativeWith(Map.of()));
  }

  @Test
  void nioWhenTurnedOff() {
    assertEquals(false, nativeWith(Map.of("TOKENBUS_NATIVE_TRANSPORT", "false")));
  }
}
