package io.tokenbus.worker.backend;

import io.tokenbus.testing.Patience;
import io.tokenbus.worker.backend.FakeProvider.Await;
import io.vertx.core.Context;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * How one generation went, started on a Vert.x context as the worker does: the tokens as they arrived, then its text
 * or its failure. Each of the first {@code expected} tokens completes a "seen" promise, so that a fake provider can
 * pace itself by the client ({@link #seenToken}).
 */
final class Outcome implements TokenSink {
  final List<String> tokens = Collections.synchronizedList(new ArrayList<>());
  final List<Promise<Void>> seen = new ArrayList<>();
  final CompletableFuture<String> result = new CompletableFuture<>();
  final CompletableFuture<BackendException> error = new CompletableFuture<>();
  private Generation generation;
  private Context context;

  /** @param expected how many tokens {@link #seenToken} and {@link #seen} can wait for */
  Outcome(int expected) {
    for (int i = 0; i < expected; i++) {
      seen.add(Promise.promise());
    }
  }

  static Outcome of(Vertx vertx, ModelBackend backend) {
    return new Outcome(0).start(vertx, backend);
  }

  /** Starts {@code backend} generating into this on a new context of {@code vertx}; returns once it has started. */
  Outcome start(Vertx vertx, ModelBackend backend) {
    GenerationRequest req = new GenerationRequest("m", List.of(ChatMessage.user("hi")), 1, 0);
    context = vertx.getOrCreateContext();
    Promise<Generation> started = Promise.promise();
    context.runOnContext(v -> started.complete(backend.generate(req, this)));
    generation = started.future().await();
    return this;
  }

  /** The running generation's handle (cancel, pause, resume): call it {@link #on} its context. */
  Generation generation() {
    return generation;
  }

  /** Runs {@code r} on the context the generation runs on, as the worker calls it. */
  void on(Runnable r) {
    context.runOnContext(v -> r.run());
  }

  /** A script step that lets the fake go on only once the client has the n-th token (1-based). */
  Await seenToken(int n) {
    return new Await(i -> seen.get(n - 1).future());
  }

  /** The failure; fails the test if the generation ended normally instead (a failed generation does not also end). */
  BackendException failure() throws Exception {
    CompletableFuture.anyOf(result, error).get(Patience.SECONDS, TimeUnit.SECONDS);
    if (result.isDone()) {
      throw new AssertionError("expected a failure, the generation ended with: " + result.get());
    }
    return error.get();
  }

  @Override
  public void onToken(String text) {
    tokens.add(text);
    if (tokens.size() <= seen.size()) {
      seen.get(tokens.size() - 1).complete();
    }
  }

  @Override
  public void onEnd() {
    result.complete(String.join("", tokens));
  }

  @Override
  public void onError(BackendException e) {
    error.complete(e);
  }
}
