package io.tokenbus.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tokenbus.events.ErrorCode;
import io.tokenbus.events.TokenbusException;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Requests sent again while nobody is registered: for how long, and for which failures. */
class RegistrationsTest {
  private final Vertx vertx = Vertx.vertx();

  @AfterEach
  void close() {
    vertx.close().await();
  }

  /** Refused {@code no_worker} until the n-th call. */
  private static java.util.function.Supplier<Future<String>> registeredAt(int n, AtomicInteger calls) {
    return () -> calls.incrementAndGet() < n ? Future.failedFuture(new TokenbusException(ErrorCode.NO_WORKER, "none"))
      : Future.succeededFuture("taken");
  }

  @Test
  void aServiceThatComesBackWithinTheWaitGetsTheRequest() {
    AtomicInteger calls = new AtomicInteger();
    long start = System.nanoTime();
    // 0.1 + 0.2 + 0.4 + 0.8 + 1.6 + 1.6 + 1.6 s: past the ~3 s whenRegistered gives.
    assertEquals("taken", Registrations.untilRegistered(vertx, registeredAt(8, calls), 100, 10_000).await());
    assertEquals(8, calls.get());
    assertTrue((System.nanoTime() - start) / 1_000_000 >= 6_300, "waited between the calls");
  }

  @Test
  void theWaitEndsWithTheRefusal() {
    AtomicInteger calls = new AtomicInteger();
    long start = System.nanoTime();
    TokenbusException e = TokenbusException.from(assertFails(Registrations.untilRegistered(vertx, registeredAt(100, calls), 100, 1_000)));
    long tookMs = (System.nanoTime() - start) / 1_000_000;
    assertEquals(ErrorCode.NO_WORKER, e.code());
    assertTrue(tookMs >= 1_000 && tookMs < 3_000, "gave up at the deadline, not before: " + tookMs + " ms");
  }

  @Test
  void aRegistrationThatDoesNotComeIsWaitedForAboutThreeSeconds() {
    AtomicInteger calls = new AtomicInteger();
    long start = System.nanoTime();
    TokenbusException e = TokenbusException.from(assertFails(Registrations.whenRegistered(vertx, registeredAt(100, calls), 100)));
    long tookMs = (System.nanoTime() - start) / 1_000_000;
    assertEquals(ErrorCode.NO_WORKER, e.code());
    assertTrue(tookMs >= 3_000 && tookMs < 5_000, "0.1 + 0.2 + 0.4 + 0.8 + 1.6 s: " + tookMs + " ms");
    assertTrue(calls.get() >= 5 && calls.get() <= 7, "one call per wait and the first: " + calls.get());
  }

  @Test
  void otherFailuresAreNotRetried() {
    AtomicInteger calls = new AtomicInteger();
    Future<String> f = Registrations.untilRegistered(vertx, () -> {
      calls.incrementAndGet();
      return Future.failedFuture(new TokenbusException(ErrorCode.CONFLICT, "taken over too often"));
    }, 100, 10_000);
    assertEquals(ErrorCode.CONFLICT, TokenbusException.from(assertFails(f)).code());
    assertEquals(1, calls.get());
  }

  @Test
  void retryWhileSendsAgainOnTheCodesItIsGivenOnly() {
    AtomicInteger calls = new AtomicInteger();
    // A timeout, a missing handler, a timeout, then a conflict: the first three are sent again, the conflict ends it.
    List<ErrorCode> answers = List.of(ErrorCode.TIMEOUT, ErrorCode.NO_WORKER, ErrorCode.TIMEOUT, ErrorCode.CONFLICT);
    Future<String> f = Registrations.retryWhile(vertx, () -> Future.failedFuture(
      new TokenbusException(answers.get(Math.min(calls.getAndIncrement(), answers.size() - 1)), "refused")),
      code -> code != ErrorCode.CONFLICT, 10, 10_000);
    assertEquals(ErrorCode.CONFLICT, TokenbusException.from(assertFails(f)).code());
    assertEquals(4, calls.get());
  }

  private static Throwable assertFails(Future<?> f) {
    try {
      f.await();
    } catch (Throwable t) {
      return t;
    }
    throw new AssertionError("expected a failure");
  }
}
