package io.tokenbus.launcher.faults;

import io.tokenbus.testing.Signals;

import io.tokenbus.launcher.TokenbusLauncher;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * One tokenbus service in its own JVM, started from the test's classpath as
 * {@code TokenbusLauncher --cluster --role <role>}, its output copied to a log file (for diagnosis: the path is in
 * every failure message of the harness). Faults: {@link #kill()} (SIGKILL), {@link #pause()}/{@link #resume()}
 * (SIGSTOP/SIGCONT on {@link Process#pid()}: the JVM, its Hazelcast member and its sockets freeze), {@link #term()}.
 */
public final class TokenbusProcess {
  private final String name;
  private final Process process;
  private final Path log;
  private static final java.util.regex.Pattern MANAGEMENT = java.util.regex.Pattern.compile("management on port (\\d+)");
  private static final java.util.regex.Pattern HTTP = java.util.regex.Pattern.compile("open http://localhost:(\\d+)/");
  private volatile int httpPort;
  private volatile int managementPort;
  private volatile boolean paused;

  private TokenbusProcess(String name, Process process, Path log, int httpPort) {
    this.name = name;
    this.process = process;
    this.log = log;
    this.httpPort = httpPort;
  }

  /**
   * Starts a role and waits (at most 120 s) until it prints that it is running.
   *
   * @param httpPort the gateway's port (put in {@code TOKENBUS_HTTP_PORT}); 0: a gateway binds any free port and
   *                 {@link #port()} is the one it reports (a port picked here and bound later can be taken meanwhile
   *                 by another process' outgoing connection)
   */
  public static TokenbusProcess launch(String name, String role, Map<String, String> env, int httpPort, Path logDir)
    throws IOException {
    Files.createDirectories(logDir);
    Path log = logDir.resolve(name + ".log");
    List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
      "-Xmx384m", "-XX:+UseSerialGC",
      "--add-modules", "java.se", "--add-exports", "java.base/jdk.internal.ref=ALL-UNNAMED",
      "--add-opens", "java.base/java.lang=ALL-UNNAMED", "--add-opens", "java.base/sun.nio.ch=ALL-UNNAMED",
      "--add-opens", "java.management/sun.management=ALL-UNNAMED",
      "--add-opens", "jdk.management/com.sun.management.internal=ALL-UNNAMED",
      "-cp", System.getProperty("java.class.path"), TokenbusLauncher.class.getName(), "--cluster", "--role", role));
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
    pb.environment().put("TOKENBUS_MANAGEMENT_PORT", "0"); // several processes share this host
    pb.environment().putAll(env);
    if (httpPort > 0 || "gateway".equals(role)) {
      pb.environment().put("TOKENBUS_HTTP_PORT", String.valueOf(httpPort));
    }
    Process p = pb.start();
    TokenbusProcess tp = new TokenbusProcess(name, p, log, httpPort);
    CompletableFuture<Void> ready = new CompletableFuture<>();
    Thread copier = new Thread(() -> {
      try (BufferedReader in = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
           PrintWriter out = new PrintWriter(Files.newBufferedWriter(log, StandardCharsets.UTF_8), true)) {
        for (String line; (line = in.readLine()) != null; ) {
          out.println(line);
          if (line.startsWith("tokenbus") && line.contains("is running")) {
            var m = MANAGEMENT.matcher(line);
            if (m.find()) {
              tp.managementPort = Integer.parseInt(m.group(1));
            }
            var h = HTTP.matcher(line);
            if (h.find()) {
              tp.httpPort = Integer.parseInt(h.group(1));
            }
            ready.complete(null);
          }
        }
      } catch (IOException ignored) {
        // process gone
      }
      ready.completeExceptionally(new IllegalStateException(name + " exited before it was running; see " + log));
    }, "log-" + name);
    copier.setDaemon(true);
    copier.start();
    try {
      ready.get(120, TimeUnit.SECONDS);
    } catch (Exception e) {
      p.destroyForcibly();
      String why = e instanceof java.util.concurrent.ExecutionException ? e.getCause().getMessage() : "did not start in 120 s";
      throw new IOException(name + " (" + role + "): " + why + "; see " + log, e);
    }
    return tp;
  }

  public String name() {
    return name;
  }

  public long pid() {
    return process.pid();
  }

  public Path log() {
    return log;
  }

  /** The gateway's HTTP port (0 for other roles). */
  public int port() {
    return httpPort;
  }

  /** The management listener's port (/metrics, /health/live, /health/ready), known once the process is running. */
  public int managementPort() {
    return managementPort;
  }

  public boolean isAlive() {
    return process.isAlive();
  }

  public boolean paused() {
    return paused;
  }

  /** SIGKILL, and waits for the process to be gone. */
  public void kill() {
    process.destroyForcibly();
    waitExit();
  }

  /** SIGTERM (shutdown hooks run), and waits for the process to be gone (SIGKILL after 20 s). */
  public void term() {
    if (paused) {
      resumeQuietly();
    }
    process.destroy();
    try {
      if (!process.waitFor(20, TimeUnit.SECONDS)) {
        kill();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** SIGSTOP: the whole JVM freezes (sockets stay open, nothing is answered). */
  public void pause() throws IOException {
    Signals.send(process.pid(), "STOP");
    paused = true;
  }

  /** SIGCONT. */
  public void resume() throws IOException {
    Signals.send(process.pid(), "CONT");
    paused = false;
  }

  private void resumeQuietly() {
    try {
      resume();
    } catch (IOException ignored) {
      // gone already
    }
  }

  private void waitExit() {
    try {
      process.waitFor(20, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  @Override
  public String toString() {
    return name + "(pid " + process.pid() + (httpPort > 0 ? ", port " + httpPort : "") + ", log " + log + ")";
  }
}
