package io.tokenbus.worker.backend;

import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/** How one generation ended, started on a Vert.x context as the worker does: its text, or its failure. */
final class Outcome implements TokenSink {
  private final StringBuilder text = new StringBuilder();
  final CompletableFuture<String> result = new CompletableFuture<>();
  final CompletableFuture<BackendException> error = new CompletableFuture<>();

  static Outcome of(Vertx vertx, ModelBackend backend) {
    Outcome o = new Outcome();
    Promise<Void> started = Promise.promise();
    vertx.getOrCreateContext().runOnContext(v -> {
      backend.generate(new GenerationRequest("m", List.of(ChatMessage.user("hi")), 1, 0), o);
      started.complete();
    });
    started.future().await();
    return o;
  }

  /** The failure; fails the test if the generation ended normally instead. */
  BackendException failure() throws Exception {
    CompletableFuture.anyOf(result, error).get(10, TimeUnit.SECONDS);
    if (result.isDone()) {
      throw new AssertionError("expected a failure, the generation ended with: " + result.get());
    }
    return error.get();
  }

  @Override
  public void onToken(String t) {
    text.append(t);
  }

  @Override
  public void onEnd() {
    result.complete(text.toString());
  }

  @Override
  public void onError(BackendException e) {
    error.complete(e);
  }
}
