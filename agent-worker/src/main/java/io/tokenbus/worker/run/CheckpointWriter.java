package io.tokenbus.worker.run;

import io.tokenbus.events.Addresses;
import io.tokenbus.events.ErrorCode;
import io.tokenbus.events.TokenbusException;
import io.tokenbus.events.internal.AppendBatch;
import io.tokenbus.events.internal.AppendBatchResult;
import io.tokenbus.events.internal.AppendRequest;
import io.tokenbus.events.internal.AppendResult;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.EventBus;
import java.util.ArrayList;
import java.util.List;

/**
 * Sends the checkpoint writes of all jobs on this worker that were issued in one event-loop turn as one
 * {@link AppendBatch} message: one event-bus round trip instead of one per token. Each job has at most one write
 * pending, so a batch is bounded by the number of running jobs (and cut at {@link #MAX_BATCH}).
 *
 * <p>Not thread-safe: used from the worker verticle's context only.
 */
public final class CheckpointWriter {
  static final int MAX_BATCH = 512;

  private record Pending(AppendRequest request, Promise<AppendResult> promise) {}

  private final Context context;
  private final EventBus eb;
  private final DeliveryOptions options;
  private List<Pending> pending = new ArrayList<>();

  public CheckpointWriter(Context context, EventBus eb, long timeoutMs) {
    this.context = context;
    this.eb = eb;
    this.options = new DeliveryOptions().setSendTimeout(timeoutMs);
  }

  public Future<AppendResult> append(AppendRequest request) {
    Promise<AppendResult> p = Promise.promise();
    if (pending.isEmpty()) {
      context.runOnContext(v -> flush());
    }
    pending.add(new Pending(request, p));
    return p.future();
  }

  private void flush() {
    List<Pending> all = pending;
    pending = new ArrayList<>();
    for (int from = 0; from < all.size(); from += MAX_BATCH) {
      List<Pending> batch = all.subList(from, Math.min(all.size(), from + MAX_BATCH));
      eb.<AppendBatchResult>request(Addresses.CHECKPOINT_APPEND_BATCH,
          new AppendBatch(batch.stream().map(Pending::request).toList()), options)
        .onComplete(ar -> {
          if (ar.failed()) {
            TokenbusException e = TokenbusException.from(ar.cause());
            batch.forEach(p -> p.promise().fail(e));
            return;
          }
          List<AppendBatchResult.Outcome> outcomes = ar.result().body().outcomes();
          for (int i = 0; i < batch.size(); i++) {
            AppendBatchResult.Outcome o = i < outcomes.size() ? outcomes.get(i) : null;
            if (o == null) {
              batch.get(i).promise().fail(new TokenbusException(ErrorCode.INTERNAL, "checkpoint answered too few outcomes"));
            } else if (o.result() != null) {
              batch.get(i).promise().complete(o.result());
            } else {
              batch.get(i).promise().fail(o.failure());
            }
          }
        });
    }
  }
}
