package io.tokenbus.worker.backend;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonObject;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Function;

/**
 * A fake LLM provider over a real socket (127.0.0.1, random port): answers each request with the next scripted
 * response, writing exactly the bytes the script gives (recorded Ollama NDJSON or OpenAI SSE shapes), and records
 * what it saw (request bodies and headers, when a connection closed).
 */
public final class FakeProvider implements AutoCloseable {
  /** One step of a scripted answer. */
  public sealed interface Step permits Write, Await, End, Stall, Flood {}

  /** Writes bytes (the response headers go out with the first write). */
  public record Write(String text) implements Step {}

  /** Waits for a future before going on, e.g. until the client has seen a token: paces the stream by the client. */
  public record Await(Function<Integer, Future<?>> gate) implements Step {}

  /** Ends the response normally (a clean EOF). */
  public record End() implements Step {}

  /** Keeps the connection open and silent. */
  public record Stall() implements Step {}

  /**
   * Writes {@code line} again and again until the server's write queue is full, i.e. the client stopped reading and
   * every buffer on the way is full; completes {@code full} with the number of lines written. Fails it when
   * {@code maxBytes} went out without the queue filling (the client kept reading).
   */
  public record Flood(String line, long maxBytes, Promise<Integer> full) implements Step {}

  /** One scripted response: status, content type, extra headers (e.g. {@code retry-after}) and the body's steps. */
  public record Answer(int status, String contentType, Map<String, String> headers, List<Step> steps) {
    public Answer(int status, String contentType, List<Step> steps) {
      this(status, contentType, Map.of(), steps);
    }

    public Answer withHeader(String name, String value) {
      Map<String, String> h = new LinkedHashMap<>(headers);
      h.put(name, value);
      return new Answer(status, contentType, h, steps);
    }
  }

  private final Vertx vertx;
  /** Request bodies in arrival order. */
  public final List<JsonObject> bodies = new CopyOnWriteArrayList<>();
  public final List<String> authorizations = new CopyOnWriteArrayList<>();
  /** When each request arrived ({@link System#nanoTime()}), in arrival order. */
  public final List<Long> arrivedAtNanos = new CopyOnWriteArrayList<>();
  /** When the first connection closed ({@link System#nanoTime()}). */
  public final CompletableFuture<Long> closedAtNanos = new CompletableFuture<>();
  private final HttpServer server;
  private final List<Answer> answers;
  private int served;

  public FakeProvider(Vertx vertx, List<Answer> answers) {
    this.vertx = vertx;
    this.answers = answers;
    this.server = vertx.createHttpServer().requestHandler(this::handle);
    server.listen(0, "127.0.0.1").await();
  }

  public String baseUrl() {
    return "http://127.0.0.1:" + server.actualPort();
  }

  private void handle(HttpServerRequest req) {
    arrivedAtNanos.add(System.nanoTime());
    req.connection().closeHandler(v -> closedAtNanos.complete(System.nanoTime()));
    authorizations.add(String.valueOf(req.getHeader("authorization")));
    req.body().onSuccess(b -> {
      bodies.add(b.toJsonObject());
      Answer a = answers.get(Math.min(served++, answers.size() - 1));
      HttpServerResponse resp = req.response().setStatusCode(a.status()).putHeader("content-type", a.contentType())
        .setChunked(true);
      a.headers().forEach(resp::putHeader);
      play(resp, a.steps(), 0);
    });
  }

  private void play(HttpServerResponse resp, List<Step> steps, int i) {
    if (i == steps.size() || resp.closed()) {
      return;
    }
    Step s = steps.get(i);
    if (s instanceof Write w) {
      resp.write(w.text()).onComplete(ar -> play(resp, steps, i + 1));
    } else if (s instanceof Await aw) {
      aw.gate().apply(i).onComplete(ar -> play(resp, steps, i + 1));
    } else if (s instanceof End) {
      resp.end();
    } else if (s instanceof Flood f) {
      resp.setWriteQueueMaxSize(64 * 1024);
      flood(resp, f, 0, () -> play(resp, steps, i + 1));
    }
    // Stall: do nothing more
  }

  /** Writes in small bursts, yielding the event loop between them so a reading client could keep up. */
  private void flood(HttpServerResponse resp, Flood f, int written, Runnable then) {
    int n = written;
    for (int burst = 0; burst < 16; burst++) {
      if (resp.writeQueueFull()) {
        f.full().tryComplete(n);
        then.run();
        return;
      }
      if ((long) n * f.line().length() > f.maxBytes()) {
        f.full().tryFail("wrote " + n + " lines and the client still reads");
        return;
      }
      resp.write(f.line());
      n++;
    }
    int sent = n;
    vertx.runOnContext(v -> flood(resp, f, sent, then));
  }

  public static Answer ok(String contentType, Step... steps) {
    return new Answer(200, contentType, List.of(steps));
  }

  public static Answer error(int status, String body) {
    return error(status, "application/json", body);
  }

  public static Answer error(int status, String contentType, String body) {
    return new Answer(status, contentType, List.of(new Write(body), new End()));
  }

  @Override
  public void close() {
    server.close().await();
  }
}
