package io.tokenbus.testing;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A real Redis for tests: {@code REDIS_URL} when set, else a {@code redis-server} from PATH on a free port, else the
 * binary bundled in embedded-redis. One per test class; {@link #close()} stops what it started. Tests isolate
 * themselves by using fresh random job ids, never by flushing.
 */
public final class TestRedis implements AutoCloseable {
  private final String url;
  private final Process process;
  private final redis.embedded.RedisServer embedded;

  private TestRedis(String url, Process process, redis.embedded.RedisServer embedded) {
    this.url = url;
    this.process = process;
    this.embedded = embedded;
  }

  public static TestRedis start() {
    String env = System.getenv("REDIS_URL");
    if (env != null && !env.isBlank()) {
      return new TestRedis(env, null, null);
    }
    int port = freePort();
    Path onPath = findOnPath("redis-server");
    try {
      if (onPath != null) {
        // A port found free can be taken (by another process' outgoing connection) before redis-server binds it:
        // redis-server then exits, and another port is tried.
        for (int attempt = 1; ; attempt++) {
          List<String> cmd = new ArrayList<>(List.of(onPath.toString(), "--port", String.valueOf(port), "--bind",
            "127.0.0.1", "--save", "", "--appendonly", "no"));
          Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
          try {
            waitForPort(port, p);
            return new TestRedis("redis://127.0.0.1:" + port, p, null);
          } catch (IOException e) {
            boolean exited = !p.isAlive();
            p.destroy();
            if (!exited || attempt == 3) {
              throw e;
            }
            port = freePort();
          }
        }
      }
      redis.embedded.RedisServer s = redis.embedded.RedisServer.newRedisServer().port(port).bind("127.0.0.1")
        .setting("save \"\"").setting("appendonly no").build();
      s.start();
      return new TestRedis("redis://127.0.0.1:" + port, null, s);
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

  private static Path findOnPath(String exe) {
    for (String dir : System.getenv().getOrDefault("PATH", "").split(":")) {
      Path p = Path.of(dir, exe);
      if (Files.isExecutable(p)) {
        return p;
      }
    }
    return null;
  }

  private static void waitForPort(int port, Process p) throws IOException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (System.nanoTime() < deadline) {
      if (!p.isAlive()) {
        throw new IOException("redis-server exited with " + p.exitValue());
      }
      try (java.net.Socket s = new java.net.Socket("127.0.0.1", port)) {
        return;
      } catch (IOException notYet) {
        try {
          Thread.sleep(20); // polling a port that has no event to await
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new IOException(e);
        }
      }
    }
    throw new IOException("redis-server did not listen on " + port);
  }

  @Override
  public void close() {
    if (process != null) {
      process.destroy();
    }
    if (embedded != null) {
      try {
        embedded.stop();
      } catch (IOException ignored) {
        // best effort at test end
      }
    }
  }
}
