package io.tokenbus.worker.backend;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;

/**
 * A fake LLM provider over a real socket: answers one scripted response per request, speaking whatever bytes the
 * script writes (recorded Ollama NDJSON or OpenAI SSE shapes), and records what it saw (bodies, closed connections).
 */
final class FakeProvider implements AutoCloseable {
  /** One step of a scripted answer: write bytes, or wait for a future (e.g. the client having seen a token). */
  sealed interface Step permits Write, Await, End, Stall {}

  record Write(String text) implements Step {}

  record Await(Function<Integer, Future<?>> gate) implements Step {}

  record End() implements Step {}

  /** Keeps the connection open and silent. */
  record Stall() implements Step {}

  record Answer(int status, String contentType, List<Step> steps) {}

  final Vertx vertx;
  final List<JsonObject> bodies = new ArrayList<>();
  final CompletableFuture<Long> closedAtNanos = new CompletableFuture<>();
  private final HttpServer server;
  private final List<Answer> answers;
  private int served;

  FakeProvider(Vertx vertx, List<Answer> answers) {
    this.vertx = vertx;
    this.answers = answers;
    this.server = vertx.createHttpServer().requestHandler(this::handle);
    server.listen(0, "127.0.0.1").await();
  }

  String baseUrl() {
    return "http://127.0.0.1:" + server.actualPort();
  }

  private void handle(HttpServerRequest req) {
    req.connection().closeHandler(v -> closedAtNanos.complete(System.nanoTime()));
    req.body().onSuccess(b -> {
      bodies.add(b.toJsonObject());
      Answer a = answers.get(Math.min(served++, answers.size() - 1));
      var resp = req.response().setStatusCode(a.status()).putHeader("content-type", a.contentType()).setChunked(true);
      play(resp, a.steps(), 0);
    });
  }

  private void play(io.vertx.core.http.HttpServerResponse resp, List<Step> steps, int i) {
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
    }
    // Stall: do nothing more
  }

  static Answer ok(String contentType, Step... steps) {
    return new Answer(200, contentType, List.of(steps));
  }

  static Answer error(int status, String body) {
    return new Answer(status, "application/json", List.of(new Write(body), new End()));
  }

  static Future<Void> after(Promise<Void> p) {
    return p.future();
  }

  @Override
  public void close() {
    server.close().await();
  }
}
