package io.tokenbus.testing;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Path;

/**
 * A real Redis for tests: {@code REDIS_URL} when set, else a {@link RedisProcess} (Debian's redis-server, else one on
 * PATH, else the binary bundled in embedded-redis) on a free port. One per test class; {@link #close()} stops what it
 * started. Tests isolate themselves by using fresh random job ids, never by flushing.
 */
public final class TestRedis implements AutoCloseable {
  private final String url;
  private final RedisProcess process;

  private TestRedis(String url, RedisProcess process) {
    this.url = url;
    this.process = process;
  }

  public static TestRedis start() {
    String env = System.getenv("REDIS_URL");
    if (env != null && !env.isBlank()) {
      return new TestRedis(env, null);
    }
    try {
      RedisProcess p = RedisProcess.start(RedisProcess.Persistence.NONE, Path.of("target", "test-redis"));
      return new TestRedis(p.url(), p);
    } catch (IOException e) {
      throw new IllegalStateException("cannot start a Redis for tests", e);
    }
  }

  public String url() {
    return url;
  }

  public static int freePort() {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  @Override
  public void close() {
    if (process != null) {
      process.close();
    }
  }
}
