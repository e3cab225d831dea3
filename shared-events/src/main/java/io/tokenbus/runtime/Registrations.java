package io.tokenbus.runtime;

import io.tokenbus.events.ErrorCode;
import io.tokenbus.events.TokenbusException;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import java.util.function.Predicate;
import java.util.function.Supplier;

/**
 * Requests to a service whose registration this node may not have seen yet. A node that just joined the cluster or
 * merged back into it sees the others' registrations arrive over a moment (and a draining handler refuses with
 * {@code no_worker}): a request that found no handler is sent again, after 0.1, 0.2, 0.4, ... s, for up to ~3 s.
 * Nobody took such a request, so sending it again is safe.
 */
public final class Registrations {
  /** The last wait before giving up (ms); the waits before it double from the first. */
  static final long LAST_BACKOFF_MS = 1600;

  private Registrations() {}

  /**
   * {@code request}, sent again while it fails with {@code no_worker}, first after {@code firstBackoffMs}, the waits
   * doubling up to {@link #LAST_BACKOFF_MS}: ~3 s in all.
   */
  public static <T> Future<T> whenRegistered(Vertx vertx, Supplier<Future<T>> request, long firstBackoffMs) {
    return untilRegistered(vertx, request, firstBackoffMs, 2 * LAST_BACKOFF_MS - firstBackoffMs);
  }

  /**
   * {@code request}, sent again while it fails with {@code no_worker} until {@code waitMs} have passed: first after
   * {@code firstBackoffMs}, doubling up to {@link #LAST_BACKOFF_MS}, then every {@link #LAST_BACKOFF_MS}. For what may
   * wait for a service to come back (a restarting worker), not only for its registration to arrive.
   */
  public static <T> Future<T> untilRegistered(Vertx vertx, Supplier<Future<T>> request, long firstBackoffMs, long waitMs) {
    return retryWhile(vertx, request, code -> code == ErrorCode.NO_WORKER, firstBackoffMs, waitMs);
  }

  /**
   * {@code request}, sent again on the same schedule while it fails with a code {@code again} accepts, e.g. also a
   * timeout from a registration that outlived its handler (a dead member not removed yet). Only for requests whose
   * repetition is harmless.
   */
  public static <T> Future<T> retryWhile(Vertx vertx, Supplier<Future<T>> request, Predicate<ErrorCode> again,
                                         long firstBackoffMs, long waitMs) {
    return retry(vertx, request, again, firstBackoffMs, System.nanoTime() + waitMs * 1_000_000);
  }

  private static <T> Future<T> retry(Vertx vertx, Supplier<Future<T>> request, Predicate<ErrorCode> again,
                                     long backoffMs, long giveUpAtNanos) {
    return request.get().recover(e -> {
      long leftMs = (giveUpAtNanos - System.nanoTime()) / 1_000_000;
      if (!again.test(TokenbusException.from(e).code()) || leftMs <= 0) {
        return Future.failedFuture(e);
      }
      Promise<T> p = Promise.promise();
      vertx.setTimer(Math.max(1, Math.min(backoffMs, leftMs)),
        id -> retry(vertx, request, again, Math.min(backoffMs * 2, LAST_BACKOFF_MS), giveUpAtNanos).onComplete(p));
      return p.future();
    });
  }
}
