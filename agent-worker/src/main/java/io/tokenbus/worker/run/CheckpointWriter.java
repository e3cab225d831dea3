package io.tokenbus.worker.run;

import io.tokenbus.events.Addresses;
import io.tokenbus.events.ErrorCode;
import io.tokenbus.events.Priority;
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
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.function.LongConsumer;

/**
 * Sends the checkpoint writes of all jobs on this worker that were issued in one event-loop turn as one
 * {@link AppendBatch} message: one event-bus round trip instead of one per token. Each job has at most one write
 * pending, so the queue is bounded by the number of running jobs. At most {@link #MAX_IN_FLIGHT} messages of at most
 * {@link #MAX_CHUNKS} chunks are in flight; under overload writes wait here, jobs' outboxes fill and their models
 * pause, so the store is never flooded.
 *
 * <p>Interactive writes go first, and never in a message with background ones (a message is answered once all its
 * writes are stored, so an interactive write would wait for the background writes beside it): while a message is
 * unanswered (the store lags), a free slot goes to interactive writes; background writes wait for the next answer,
 * never longer (interactive traffic alone may keep a message in flight at all times), go in messages of at most
 * {@link #MAX_BACKGROUND_CHUNKS} chunks ({@link #MAX_BACKGROUND_CHUNKS_BESIDE_INTERACTIVE} while interactive writes
 * come), and take one of the three slots at most, so interactive writes always have
 * two: with one, an interactive write waited for the round trip of the one before it whenever background work was in
 * flight (interactive chunks stored p99 10 ms with one such slot, 5-7.5 ms with two, under the overload of
 * docs/benchmarks.md).
 * Each round trip is reported to {@code onRoundTrip} (micros).
 *
 * <p>Not thread-safe: used from the worker verticle's context only.
 */
public final class CheckpointWriter {
  static final int MAX_IN_FLIGHT = 3;
  static final int MAX_CHUNKS = 4096;
  /**
   * A background message's bound: the store runs a message's writes in order and answers them together, and Redis
   * runs what comes after them (the next interactive writes) only once they are done, so a big background message
   * would hold interactive chunks back. 64 writes are about a millisecond of Redis (measured: 256 gave interactive p99
   * 29-31 ms, 64 gave 20 ms under the same overload; docs/benchmarks.md).
   */
  static final int MAX_BACKGROUND_CHUNKS = 64;
  /**
   * The bound while interactive writes come (one in the last {@link #INTERACTIVE_RECENT_NANOS}): the worker's one event
   * loop also stores and publishes a background message's chunks in one go, and an interactive chunk waits behind that.
   * At twice saturation in one process, 16 gave interactive p99 3.5-4.9 ms against 6.7-7.2 with 64, and more
   * background throughput (fewer late interactive chunks, so workers cut background less); with the gateway in its
   * own process better at a load it serves, 1-2 ms worse in its overload tail (docs/benchmarks.md, "Smaller
   * background messages beside interactive writes, again").
   * Without interactive traffic the larger bound keeps background work cheap.
   */
  static final int MAX_BACKGROUND_CHUNKS_BESIDE_INTERACTIVE = 16;
  static final long INTERACTIVE_RECENT_NANOS = 1_000_000_000L;

  private record Pending(AppendRequest request, Promise<AppendResult> promise) {}

  private final Context context;
  private final EventBus eb;
  private final DeliveryOptions options;
  private final ArrayDeque<Pending> pending = new ArrayDeque<>();
  private final ArrayDeque<Pending> pendingBackground = new ArrayDeque<>();
  private final LongConsumer onRoundTrip;
  private int inFlight;
  /** At most one message of background writes is in flight, so two slots are always there for interactive writes. */
  private int backgroundInFlight;
  private boolean scheduled;
  /** Answers received so far, and that count when the oldest waiting background write was held back. */
  private long answers;
  private long heldAt = -1;
  /** When interactive writes last waited here (nanoTime). */
  private long interactiveAt = System.nanoTime() - 2 * INTERACTIVE_RECENT_NANOS;

  public CheckpointWriter(Context context, EventBus eb, long timeoutMs) {
    this(context, eb, timeoutMs, micros -> { });
  }

  public CheckpointWriter(Context context, EventBus eb, long timeoutMs, LongConsumer onRoundTrip) {
    this.context = context;
    this.eb = eb;
    this.options = new DeliveryOptions().setSendTimeout(timeoutMs);
    this.onRoundTrip = onRoundTrip;
  }

  public Future<AppendResult> append(AppendRequest request) {
    return append(request, Priority.INTERACTIVE);
  }

  public Future<AppendResult> append(AppendRequest request, Priority priority) {
    Promise<AppendResult> p = Promise.promise();
    (priority == Priority.BACKGROUND ? pendingBackground : pending).add(new Pending(request, p));
    if (!scheduled) {
      scheduled = true;
      context.runOnContext(v -> {
        scheduled = false;
        flush();
      });
    }
    return p.future();
  }

  private void flush() {
    boolean idle = inFlight == 0;
    long now = System.nanoTime();
    if (!pending.isEmpty()) {
      interactiveAt = now;
    }
    int backgroundChunks = now - interactiveAt < INTERACTIVE_RECENT_NANOS
      ? MAX_BACKGROUND_CHUNKS_BESIDE_INTERACTIVE : MAX_BACKGROUND_CHUNKS;
    while (inFlight < MAX_IN_FLIGHT) {
      if (!pending.isEmpty()) {
        send(take(pending, MAX_CHUNKS), false);
      } else if (!pendingBackground.isEmpty() && backgroundInFlight == 0 && (idle || answeredSinceHeld())) {
        backgroundInFlight++;
        send(take(pendingBackground, backgroundChunks), true);
        heldAt = -1;
      } else {
        break;
      }
    }
    if (!pendingBackground.isEmpty() && heldAt < 0) {
      heldAt = answers;
    }
  }

  private void send(List<Pending> batch, boolean background) {
    inFlight++;
    long sent = System.nanoTime();
    eb.<AppendBatchResult>request(Addresses.CHECKPOINT_APPEND_BATCH,
        new AppendBatch(batch.stream().map(Pending::request).toList()), options)
      .onComplete(ar -> {
        inFlight--;
        if (background) {
          backgroundInFlight--;
        }
        answers++;
        onRoundTrip.accept((System.nanoTime() - sent) / 1000);
        settle(batch, ar.failed() ? TokenbusException.from(ar.cause()) : null, ar.failed() ? null : ar.result().body());
        flush();
      });
  }

  /** Whether an answer came since background writes were first held back. */
  private boolean answeredSinceHeld() {
    return heldAt >= 0 && answers > heldAt;
  }

  /** Takes writes from {@code from} up to {@code maxChunks} chunks in all (at least one write). */
  private static List<Pending> take(ArrayDeque<Pending> from, int maxChunks) {
    List<Pending> batch = new ArrayList<>();
    int chunks = 0;
    while (!from.isEmpty() && (batch.isEmpty() || chunks + from.peek().request().chunks().size() <= maxChunks)) {
      Pending p = from.poll();
      chunks += p.request().chunks().size();
      batch.add(p);
    }
    return batch;
  }

  private static void settle(List<Pending> batch, TokenbusException failure, AppendBatchResult result) {
    for (int i = 0; i < batch.size(); i++) {
      Promise<AppendResult> p = batch.get(i).promise();
      AppendBatchResult.Outcome o = result == null || i >= result.outcomes().size() ? null : result.outcomes().get(i);
      if (failure != null) {
        p.fail(failure);
      } else if (o == null) {
        p.fail(new TokenbusException(ErrorCode.INTERNAL, "checkpoint answered too few outcomes"));
      } else if (o.result() != null) {
        p.complete(o.result());
      } else {
        p.fail(o.failure());
      }
    }
  }
}
