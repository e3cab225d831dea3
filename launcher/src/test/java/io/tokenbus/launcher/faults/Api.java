package io.tokenbus.launcher.faults;

import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketClientOptions;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The public HTTP API as a client sees it (java.net.http, HTTP/1.1), plus the threads the followers share. Every call
 * has a deadline.
 */
public final class Api {
  static final ExecutorService EXECUTOR = Executors.newCachedThreadPool(daemon("api"));
  static final ScheduledExecutorService TIMERS = Executors.newScheduledThreadPool(2, daemon("follow-timer"));
  static final Vertx VERTX = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(2));
  static final WebSocketClient WEBSOCKETS = VERTX.createWebSocketClient(new WebSocketClientOptions()
    .setMaxConnections(10_000).setClosingTimeout(1));
  static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
    .connectTimeout(Duration.ofSeconds(3)).executor(EXECUTOR).build();
  /** For SSE streams only: cancelling one must never touch a connection an API call uses. */
  static final HttpClient STREAMS = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
    .connectTimeout(Duration.ofSeconds(3)).executor(EXECUTOR).build();

  private Api() {}

  /** A submitted job: its id and stream token. */
  public record Job(String jobId, String token) {
    @Override
    public String toString() {
      return jobId;
    }
  }

  /** {@code POST /api/jobs} with a prompt; fails unless answered 202 within 10 s. */
  public static Job submit(int port, String prompt) throws IOException, InterruptedException {
    HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(uri(port, "/api/jobs")).timeout(Duration.ofSeconds(10))
      .header("content-type", "application/json")
      .POST(HttpRequest.BodyPublishers.ofString(new JsonObject().put("prompt", prompt).encode())).build(),
      HttpResponse.BodyHandlers.ofString());
    if (r.statusCode() != 202) {
      throw new IOException("submit on port " + port + " answered " + r.statusCode() + " " + r.body());
    }
    JsonObject j = new JsonObject(r.body());
    return new Job(j.getString("jobId"), j.getString("streamToken"));
  }

  /** {@code GET /api/jobs/{id}/chunks?after=N}: status code and body. */
  public static HttpResponse<String> chunks(int port, Job job, long after) throws IOException, InterruptedException {
    return get(port, "/api/jobs/" + job.jobId() + "/chunks?after=" + after, job);
  }

  /** {@code GET /api/jobs/{id}}. */
  public static HttpResponse<String> status(int port, Job job) throws IOException, InterruptedException {
    return get(port, "/api/jobs/" + job.jobId(), job);
  }

  /** {@code POST /api/jobs/{id}/cancel}. */
  public static HttpResponse<String> cancel(int port, Job job) throws IOException, InterruptedException {
    return HTTP.send(HttpRequest.newBuilder(uri(port, "/api/jobs/" + job.jobId() + "/cancel")).timeout(Duration.ofSeconds(10))
      .header("authorization", "Bearer " + job.token()).POST(HttpRequest.BodyPublishers.noBody()).build(),
      HttpResponse.BodyHandlers.ofString());
  }

  private static HttpResponse<String> get(int port, String path, Job job) throws IOException, InterruptedException {
    return HTTP.send(HttpRequest.newBuilder(uri(port, path)).timeout(Duration.ofSeconds(10))
      .header("authorization", "Bearer " + job.token()).build(), HttpResponse.BodyHandlers.ofString());
  }

  static URI uri(int port, String path) {
    return URI.create("http://127.0.0.1:" + port + path);
  }

  private static ThreadFactory daemon(String prefix) {
    AtomicInteger n = new AtomicInteger();
    return r -> {
      Thread t = new Thread(r, prefix + "-" + n.incrementAndGet());
      t.setDaemon(true);
      return t;
    };
  }
}
