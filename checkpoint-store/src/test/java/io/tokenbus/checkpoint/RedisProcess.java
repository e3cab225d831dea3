package io.tokenbus.checkpoint;

import io.tokenbus.testing.TestRedis;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;

/**
 * A redis-server process a test can kill, restart on the same port, pause (SIGSTOP: the socket stays open and the
 * kernel still accepts, but nothing answers) and resume. Start is awaited on Redis' own "Ready to accept
 * connections" line, not by polling.
 */
final class RedisProcess implements AutoCloseable {
  private final Path binary;
  private final int port;
  private Process process;

  private RedisProcess(Path binary, int port) {
    this.binary = binary;
    this.port = port;
  }

  /** Skips the test when there is no redis-server on the PATH (the bundled one cannot be paused by pid). */
  static RedisProcess start() {
    Path found = null;
    for (String dir : System.getenv().getOrDefault("PATH", "").split(":")) {
      Path p = Path.of(dir, "redis-server");
      if (Files.isExecutable(p)) {
        found = p;
        break;
      }
    }
    Assumptions.assumeTrue(found != null, "needs redis-server on the PATH");
    RedisProcess r = new RedisProcess(found, TestRedis.freePort());
    r.launch();
    return r;
  }

  String url() {
    return "redis://127.0.0.1:" + port;
  }

  void launch() {
    try {
      process = new ProcessBuilder(List.of(binary.toString(), "--port", String.valueOf(port), "--bind", "127.0.0.1",
        "--save", "", "--appendonly", "no")).redirectErrorStream(true).start();
      CompletableFuture<Void> ready = new CompletableFuture<>();
      Process p = process;
      Thread reader = new Thread(() -> {
        try (BufferedReader in = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
          String line;
          while ((line = in.readLine()) != null) {
            if (line.contains("Ready to accept connections")) {
              ready.complete(null);
            }
          }
        } catch (IOException ignored) {
          // the process went away
        }
        ready.completeExceptionally(new IllegalStateException("redis-server exited before it was ready"));
      }, "redis-" + port);
      reader.setDaemon(true);
      reader.start();
      ready.get(10, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new IllegalStateException("cannot start redis-server on " + port, e);
    }
  }

  /** SIGKILL: connections are reset, everything stored is gone (no persistence). */
  void kill() {
    process.destroyForcibly();
    try {
      process.waitFor(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  void pause() {
    signal("-STOP");
  }

  void resume() {
    signal("-CONT");
  }

  private void signal(String sig) {
    try {
      Process k = new ProcessBuilder("kill", sig, String.valueOf(process.pid())).inheritIO().start();
      if (k.waitFor() != 0) {
        throw new IllegalStateException("kill " + sig + " failed");
      }
    } catch (IOException e) {
      throw new IllegalStateException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  @Override
  public void close() {
    if (process != null && process.isAlive()) {
      resume();
      kill();
    }
  }
}
