package io.tokenbus.worker.backend;

import static io.tokenbus.worker.backend.Recorded.NDJSON;
import static io.tokenbus.worker.backend.Recorded.OPENAI_ROLE;
import static io.tokenbus.worker.backend.Recorded.SSE;
import static io.tokenbus.worker.backend.Recorded.ollamaLine;
import static io.tokenbus.worker.backend.Recorded.openAiText;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tokenbus.testing.Patience;
import io.tokenbus.worker.backend.FakeProvider.Await;
import io.tokenbus.worker.backend.FakeProvider.End;
import io.tokenbus.worker.backend.FakeProvider.Flood;
import io.tokenbus.worker.backend.FakeProvider.Stall;
import io.tokenbus.worker.backend.FakeProvider.Write;
import io.vertx.core.Promise;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The worker's controls over a running generation reach the provider: cancel closes the upstream connection within
 * {@link #CANCEL_BUDGET_MS} (before the first byte too) and reports nothing after; pause stops reading the socket
 * until resume.
 */
class HttpBackendsCancelPauseTest extends BackendTestBase {
  /** The bound from cancel to closed upstream connection. */
  static final long CANCEL_BUDGET_MS = 100;

  private static void assertCancelClosesUpstream(ModelBackend backend, FakeProvider fake, Outcome r, int tokensFirst)
    throws Exception {
    r.start(vertx, backend);
    r.seen.get(tokensFirst - 1).future().await();
    CompletableFuture<Long> cancelledAt = new CompletableFuture<>();
    r.on(() -> {
      cancelledAt.complete(System.nanoTime());
      r.generation().cancel();
    });
    long ms = (fake.closedAtNanos.get(Patience.SECONDS, TimeUnit.SECONDS) - cancelledAt.get()) / 1_000_000;
    assertTrue(ms < CANCEL_BUDGET_MS, "upstream connection closed " + ms + " ms after cancel");
    assertEquals(tokensFirst, r.tokens.size());
    assertFalse(r.result.isDone() || r.error.isDone(), "nothing is reported after a cancel");
  }

  @Test
  void cancelClosesTheUpstreamConnectionWithin100Ms() throws Exception {
    Outcome r = new Outcome(1);
    try (FakeProvider fake = new FakeProvider(providers, List.of(FakeProvider.ok(NDJSON,
      new Write(ollamaLine("first", false)), r.seenToken(1), new Stall())))) {
      assertCancelClosesUpstream(ollama(fake, 60_000, 0), fake, r, 1);
    }
    Outcome r2 = new Outcome(2);
    try (FakeProvider fake = new FakeProvider(providers, List.of(FakeProvider.ok(SSE,
      new Write(OPENAI_ROLE), new Write(openAiText("one")), r2.seenToken(1), new Write(openAiText(" two")), r2.seenToken(2),
      new Stall())))) {
      assertCancelClosesUpstream(openAi(fake, 60_000, 0), fake, r2, 2);
    }
  }

  @Test
  void cancelBeforeTheFirstByteAlsoClosesTheConnection() throws Exception {
    Outcome r = new Outcome(0);
    Promise<Void> requestSeen = Promise.promise();
    try (FakeProvider fake = new FakeProvider(providers, List.of(FakeProvider.ok(SSE,
      new Await(i -> {
        requestSeen.tryComplete();
        return Promise.promise().future(); // never answers
      }))))) {
      r.start(vertx, openAi(fake, 60_000, 0));
      requestSeen.future().await();
      CompletableFuture<Long> cancelledAt = new CompletableFuture<>();
      r.on(() -> {
        cancelledAt.complete(System.nanoTime());
        r.generation().cancel();
      });
      long ms = (fake.closedAtNanos.get(Patience.SECONDS, TimeUnit.SECONDS) - cancelledAt.get()) / 1_000_000;
      assertTrue(ms < CANCEL_BUDGET_MS, "closed " + ms + " ms after cancel");
    }
  }

  @Test
  void pauseStopsReadingTheUpstreamUntilResume() throws Exception {
    Outcome r = new Outcome(1);
    Promise<Void> paused = Promise.promise();
    Promise<Integer> full = Promise.promise();
    Promise<Void> resumed = Promise.promise();
    String filler = "x".repeat(1000);
    try (FakeProvider fake = new FakeProvider(providers, List.of(FakeProvider.ok(NDJSON,
      new Write(ollamaLine("a", false)), r.seenToken(1), new Await(i -> paused.future()),
      new Flood(ollamaLine(filler, false), 256L << 20, full),
      new Await(i -> resumed.future()),
      new Write(ollamaLine("z", true)), new End())))) {
      r.start(vertx, ollama(fake, 60_000, 0));
      r.seen.get(0).future().await();
      r.on(() -> {
        r.generation().pause();
        paused.complete();
      });
      // The fake writes until every buffer between it and us is full: we stopped reading the socket.
      int flooded = full.future().await();
      // Counted on the client's own loop, two turns later: a loop with bytes waiting reads them before it runs tasks,
      // so a client that kept reading would have delivered more tokens by now.
      Promise<Integer> delivered = Promise.promise();
      r.on(() -> r.on(() -> delivered.complete(r.tokens.size())));
      assertEquals(1, delivered.future().await(), "nothing delivered while paused, though the fake wrote " + flooded + " lines");
      r.on(() -> {
        r.generation().resume();
        resumed.complete();
      });
      String text = r.result.get(30, TimeUnit.SECONDS);
      assertEquals(1 + flooded + 1, r.tokens.size());
      assertEquals("a" + filler.repeat(flooded) + "z", text);
    }
  }
}
