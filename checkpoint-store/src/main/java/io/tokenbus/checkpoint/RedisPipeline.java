package io.tokenbus.checkpoint;

import io.tokenbus.events.ErrorCode;
import io.tokenbus.events.TokenbusException;
import io.micrometer.core.instrument.DistributionSummary;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

/**
 * Coalesces the commands issued during one event-loop turn into pipelined {@code batch()} round trips, with a bounded
 * wait queue and a bounded number of round trips in flight. Under load batches grow by themselves; idle, a command
 * goes out at the end of the current turn.
 *
 * <p>Not thread-safe: used from its owner verticle's context only.
 */
final class RedisPipeline {
  private record Pending(Request request, Promise<Response> promise) {}

  private final Context context;
  private final Redis redis;
  private final int maxPending;
  private final int maxBatch;
  private final int maxInFlight;
  private final DistributionSummary batchSizes;
  private final ArrayDeque<Pending> queue = new ArrayDeque<>();
  private int inFlight;
  private boolean flushScheduled;

  RedisPipeline(Context context, Redis redis, CheckpointConfig config, DistributionSummary batchSizes) {
    this.context = context;
    this.redis = redis;
    this.maxPending = config.maxPending();
    this.maxBatch = config.maxBatch();
    this.maxInFlight = config.maxInFlight();
    this.batchSizes = batchSizes;
  }

  Future<Response> send(Request request) {
    if (queue.size() >= maxPending) {
      return Future.failedFuture(new TokenbusException(ErrorCode.OVERLOADED,
        "checkpoint queue is full (" + maxPending + " commands waiting)"));
    }
    Promise<Response> p = Promise.promise();
    queue.add(new Pending(request, p));
    if (!flushScheduled) {
      flushScheduled = true;
      context.runOnContext(v -> flush());
    }
    return p.future();
  }

  int queued() {
    return queue.size();
  }

  private void flush() {
    flushScheduled = false;
    while (inFlight < maxInFlight && !queue.isEmpty()) {
      int n = Math.min(maxBatch, queue.size());
      List<Pending> batch = new ArrayList<>(n);
      List<Request> requests = new ArrayList<>(n);
      for (int i = 0; i < n; i++) {
        Pending p = queue.poll();
        batch.add(p);
        requests.add(p.request());
      }
      inFlight++;
      batchSizes.record(n);
      redis.batch(requests).onComplete(ar -> {
        inFlight--;
        if (ar.succeeded()) {
          List<Response> rs = ar.result();
          for (int i = 0; i < batch.size(); i++) {
            batch.get(i).promise().complete(rs.get(i));
          }
        } else {
          // One failing command fails the whole batch although the others ran; our scripts are idempotent, so
          // callers may retry. Redis errors are Throwables (not Exceptions): wrap them with a code.
          TokenbusException e = new TokenbusException(ErrorCode.STORE_UNAVAILABLE, "redis: " + ar.cause().getMessage());
          batch.forEach(p -> p.promise().fail(e));
        }
        if (!queue.isEmpty() && !flushScheduled) {
          flush();
        }
      });
    }
  }
}
