package io.tokenbus.launcher;

import java.io.IOException;
import java.net.ServerSocket;
import redis.embedded.RedisServer;

/** The bundled Redis binary (embedded-redis), started when no {@code REDIS_URL} is given. Data lives in memory only. */
final class EmbeddedRedis implements AutoCloseable {
  private final RedisServer server;
  private final int port;

  private EmbeddedRedis(RedisServer server, int port) {
    this.server = server;
    this.port = port;
  }

  static EmbeddedRedis start(int preferredPort) throws IOException {
    int port = preferredPort > 0 ? preferredPort : freePort();
    RedisServer s = RedisServer.newRedisServer().port(port).bind("127.0.0.1")
      .setting("save \"\"").setting("appendonly no").build();
    s.start();
    return new EmbeddedRedis(s, port);
  }

  String url() {
    return "redis://127.0.0.1:" + port;
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  @Override
  public void close() {
    try {
      server.stop();
    } catch (IOException ignored) {
      // shutting down anyway
    }
  }
}
