package io.tokenbus.testing;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A real {@code redis-server} (Debian's /usr/bin/redis-server, else the one on PATH) on a free port of 127.0.0.1 that a
 * test can fault: {@link #pause()}/{@link #resume()} (SIGSTOP/SIGCONT: connections stay open, nothing answers),
 * {@link #shutdown()} (graceful: the AOF is flushed), {@link #kill()} (SIGKILL), {@link #restart(boolean)} on the same
 * port with or without its data, and {@link #cli} over a raw RESP socket. Every wait is bounded.
 */
public final class RedisProcess implements AutoCloseable {
  /** How the server persists: nothing, or an append-only file fsynced every second. */
  public enum Persistence { NONE, AOF_EVERYSEC }

  private final int port;
  private final Persistence persistence;
  private final Path dir;
  private final Path logFile;
  private final List<String> extraArgs;
  private Process process;
  private boolean paused;

  private RedisProcess(int port, Persistence persistence, Path dir, Path logFile, List<String> extraArgs) {
    this.extraArgs = List.copyOf(extraArgs);
    this.port = port;
    this.persistence = persistence;
    this.dir = dir;
    this.logFile = logFile;
  }

  /** Starts a server on a free port; its data directory and log live under {@code logDir}. */
  public static RedisProcess start(Persistence persistence, Path logDir) throws IOException {
    return start(persistence, logDir, List.of());
  }

  /**
   * {@link #start(Persistence, Path, int, List)} on a free port. A port found free can be taken (by another process'
   * outgoing connection) before redis-server binds it; the server then exits and another port is tried, three in all.
   */
  public static RedisProcess start(Persistence persistence, Path logDir, List<String> extraArgs) throws IOException {
    for (int attempt = 1; ; attempt++) {
      try {
        return start(persistence, logDir, TestRedis.freePort(), extraArgs);
      } catch (Exited e) {
        if (attempt == 3) {
          throw e;
        }
      }
    }
  }

  /** The server exited before it answered. */
  private static final class Exited extends IOException {
    Exited(String message) {
      super(message);
    }
  }

  /**
   * Starts a server on {@code port} with more command-line settings (e.g. {@code --replicaof 127.0.0.1 6379},
   * {@code --cluster-enabled yes}); {@code --dir} is its own temporary directory.
   */
  public static RedisProcess start(Persistence persistence, Path logDir, int port, List<String> extraArgs) throws IOException {
    Files.createDirectories(logDir);
    Path dir = Files.createTempDirectory(logDir.toAbsolutePath(), "redis-data-");
    RedisProcess r = new RedisProcess(port, persistence, dir, logDir.resolve("redis-" + dir.getFileName() + ".log"), extraArgs);
    try {
      r.launch();
    } catch (IOException e) {
      r.close();
      throw e;
    }
    return r;
  }

  /** Whether this process still runs. */
  public boolean alive() {
    return process != null && process.isAlive();
  }

  public int port() {
    return port;
  }

  public String url() {
    return "redis://127.0.0.1:" + port;
  }

  public long pid() {
    return process.pid();
  }

  private void launch() throws IOException {
    List<String> cmd = new ArrayList<>(List.of(binary(), "--port", String.valueOf(port), "--bind", "127.0.0.1",
      "--save", "", "--dir", dir.toString(), "--protected-mode", "no"));
    if (persistence == Persistence.AOF_EVERYSEC) {
      cmd.addAll(List.of("--appendonly", "yes", "--appendfsync", "everysec"));
    } else {
      cmd.addAll(List.of("--appendonly", "no"));
    }
    cmd.addAll(extraArgs);
    process = new ProcessBuilder(cmd).redirectErrorStream(true)
      .redirectOutput(ProcessBuilder.Redirect.appendTo(logFile.toFile())).start();
    paused = false;
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    IOException last = null;
    while (System.nanoTime() < deadline) {
      if (!process.isAlive()) {
        throw new Exited("redis-server exited with " + process.exitValue() + "; see " + logFile);
      }
      try {
        Object pong = cli("PING");
        if ("PONG".equals(pong)) {
          return;
        }
      } catch (IOException | RedisError e) {
        last = e instanceof IOException io ? io : new IOException(e.getMessage()); // not listening or still LOADING
      }
      sleep(50);
    }
    throw new IOException("redis-server on " + port + " did not answer PING in 20 s", last);
  }

  /** SIGSTOP: the server keeps its sockets but answers nothing until {@link #resume()}. */
  public void pause() throws IOException {
    Signals.send(process.pid(), "STOP");
    paused = true;
  }

  /** SIGCONT. */
  public void resume() throws IOException {
    Signals.send(process.pid(), "CONT");
    paused = false;
  }

  /** Graceful {@code SHUTDOWN}: with AOF the file is flushed and fsynced first. Waits for the process to exit. */
  public void shutdown() throws IOException {
    if (paused) {
      resume();
    }
    try {
      cli("SHUTDOWN");
    } catch (IOException | RedisError expected) {
      // the server closes the connection instead of answering
    }
    waitExit(20);
  }

  /** SIGKILL: whatever was not fsynced is gone. */
  public void kill() throws IOException {
    process.destroyForcibly();
    waitExit(20);
  }

  /**
   * Starts the server again on the same port. {@code keepData}: same directory (AOF reloaded when persisting);
   * otherwise the directory is emptied first, so it comes back empty.
   */
  public void restart(boolean keepData) throws IOException {
    if (process.isAlive()) {
      throw new IllegalStateException("stop or kill the server before restarting it");
    }
    if (!keepData) {
      wipe(dir);
    }
    launch();
  }

  /** One command over a fresh connection; the reply as String, Long, List or null; a Redis error is thrown. */
  public Object cli(String... args) throws IOException {
    return cli(port, args);
  }

  /** One command to any Redis (or sentinel) on 127.0.0.1:{@code port}, as {@link #cli(String...)}. */
  public static Object cli(int port, String... args) throws IOException {
    try (Socket s = new Socket("127.0.0.1", port)) {
      s.setSoTimeout(5000);
      OutputStream out = s.getOutputStream();
      ByteArrayOutputStream req = new ByteArrayOutputStream();
      req.write(("*" + args.length + "\r\n").getBytes(StandardCharsets.UTF_8));
      for (String a : args) {
        byte[] b = a.getBytes(StandardCharsets.UTF_8);
        req.write(("$" + b.length + "\r\n").getBytes(StandardCharsets.UTF_8));
        req.write(b);
        req.write("\r\n".getBytes(StandardCharsets.UTF_8));
      }
      out.write(req.toByteArray());
      out.flush();
      return read(new BufferedInputStream(s.getInputStream()));
    }
  }

  private static Object read(InputStream in) throws IOException {
    int type = in.read();
    if (type < 0) {
      throw new EOFException("connection closed");
    }
    String line = line(in);
    switch (type) {
      case '+':
        return line;
      case '-':
        throw new RedisError(line);
      case ':':
        return Long.parseLong(line);
      case '$': {
        int n = Integer.parseInt(line);
        if (n < 0) {
          return null;
        }
        byte[] b = in.readNBytes(n + 2);
        return new String(b, 0, n, StandardCharsets.UTF_8);
      }
      case '*': {
        int n = Integer.parseInt(line);
        if (n < 0) {
          return null;
        }
        List<Object> items = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
          items.add(read(in));
        }
        return items;
      }
      default:
        throw new IOException("unexpected RESP type " + (char) type);
    }
  }

  private static String line(InputStream in) throws IOException {
    StringBuilder sb = new StringBuilder();
    for (int c; (c = in.read()) >= 0; ) {
      if (c == '\r') {
        in.read();
        return sb.toString();
      }
      sb.append((char) c);
    }
    throw new EOFException("connection closed");
  }

  /** An error reply ({@code -ERR ...}). */
  public static final class RedisError extends RuntimeException {
    RedisError(String message) {
      super(message);
    }
  }

  private void waitExit(int seconds) throws IOException {
    try {
      if (!process.waitFor(seconds, TimeUnit.SECONDS)) {
        process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        throw new IOException("redis-server did not exit in " + seconds + " s");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException(e);
    }
  }

  @Override
  public void close() {
    if (process != null && process.isAlive()) {
      process.destroyForcibly();
      try {
        process.waitFor(10, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    try {
      wipe(dir);
      Files.deleteIfExists(dir);
    } catch (IOException ignored) {
      // test end
    }
  }

  private static void wipe(Path dir) throws IOException {
    try (Stream<Path> s = Files.walk(dir)) {
      for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
        if (!p.equals(dir)) {
          Files.delete(p);
        }
      }
    }
  }

  private static String binary() {
    if (Files.isExecutable(Path.of("/usr/bin/redis-server"))) {
      return "/usr/bin/redis-server";
    }
    for (String d : System.getenv().getOrDefault("PATH", "").split(":")) {
      Path p = Path.of(d, "redis-server");
      if (Files.isExecutable(p)) {
        return p.toString();
      }
    }
    try {
      // A fresh machine has none: the binary bundled in embedded-redis (Redis 6.2), run as our own process.
      java.io.File bundled = redis.embedded.core.ExecutableProvider.newJarResourceProvider().get();
      bundled.setExecutable(true);
      return bundled.getAbsolutePath();
    } catch (IOException e) {
      throw new IllegalStateException("no redis-server on the PATH and the bundled one cannot be extracted", e);
    }
  }

  /**
   * A free port p such that p + 10000 is free too (a cluster node's bus port), below 55536; taken nothing from
   * {@code avoid}.
   */
  public static int freeClusterPort(java.util.Set<Integer> avoid) {
    for (int i = 0; i < 200; i++) {
      int p = 20000 + java.util.concurrent.ThreadLocalRandom.current().nextInt(30000);
      if (avoid.contains(p) || avoid.contains(p + 10000) || avoid.contains(p - 10000)) {
        continue;
      }
      try (ServerSocket a = new ServerSocket(p, 1, java.net.InetAddress.getLoopbackAddress());
           ServerSocket b = new ServerSocket(p + 10000, 1, java.net.InetAddress.getLoopbackAddress())) {
        return p;
      } catch (IOException busy) {
        // try another
      }
    }
    throw new IllegalStateException("no free port pair for a cluster node");
  }

  public static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }
}
