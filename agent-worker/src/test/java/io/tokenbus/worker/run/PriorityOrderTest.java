package io.tokenbus.worker.run;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tokenbus.events.Addresses;
import io.tokenbus.events.ChunkEvent;
import io.tokenbus.events.JobIds;
import io.tokenbus.events.JobState;
import io.tokenbus.events.Priority;
import io.tokenbus.events.codec.EventCodecs;
import io.tokenbus.events.internal.AppendBatch;
import io.tokenbus.events.internal.AppendBatchResult;
import io.tokenbus.events.internal.AppendRequest;
import io.tokenbus.events.internal.AppendResult;
import io.tokenbus.testing.Patience;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.Message;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Where priority order is deterministic: the checkpoint writer's batches, and which models the budget pauses. */
class PriorityOrderTest {
  private Vertx vertx;
  private final LinkedBlockingQueue<Message<AppendBatch>> batches = new LinkedBlockingQueue<>();
  private final SecureRandom random = new SecureRandom();

  @BeforeEach
  void start() {
    vertx = Vertx.vertx();
    EventCodecs.register(vertx.eventBus());
    vertx.eventBus().<AppendBatch>consumer(Addresses.CHECKPOINT_APPEND_BATCH, batches::add).completion().await();
  }

  @AfterEach
  void stop() {
    vertx.close().await();
  }

  @Test
  void interactiveWritesGoFirstAndAloneAndBackgroundWaitsWhileTheStoreLags() throws Exception {
    Context ctx = vertx.getOrCreateContext();
    List<Long> roundTrips = new ArrayList<>();
    CheckpointWriter writer = new CheckpointWriter(ctx, vertx.eventBus(), 10_000, roundTrips::add);
    Map<String, Future<AppendResult>> results = new ConcurrentHashMap<>();
    String bg1 = id(), int1 = id(), bg2 = id(), int2 = id(), bg3 = id();
    // One event-loop turn: background and interactive writes interleaved.
    onContext(ctx, () -> {
      results.put(bg1, writer.append(write(bg1), Priority.BACKGROUND));
      results.put(int1, writer.append(write(int1), Priority.INTERACTIVE));
      results.put(bg2, writer.append(write(bg2), Priority.BACKGROUND));
    });
    Message<AppendBatch> first = next();
    assertEquals(List.of(int1), jobs(first), "interactive first, in a message of its own (it is answered when its writes are)");
    Message<AppendBatch> second = next();
    assertEquals(List.of(bg1, bg2), jobs(second), "the store was idle: background goes at once, in arrival order");

    // A background message in flight does not hold an interactive write back: interactive writes have two slots.
    String int3 = id();
    onContext(ctx, () -> {
      results.put(bg3, writer.append(write(bg3), Priority.BACKGROUND));
      results.put(int2, writer.append(write(int2), Priority.INTERACTIVE));
    });
    Message<AppendBatch> third = next();
    assertEquals(List.of(int2), jobs(third), "the interactive write goes beside the background message in flight");

    // All three slots taken: nothing more is sent until an answer.
    onContext(ctx, () -> results.put(int3, writer.append(write(int3), Priority.INTERACTIVE)));
    assertEquals(null, batches.poll(200, TimeUnit.MILLISECONDS), "nothing else is sent while the store lags");
    answer(second);
    Message<AppendBatch> fourth = next();
    assertEquals(List.of(int3), jobs(fourth), "the free slot goes to the interactive write");

    // Held for one answer at most, even while interactive traffic keeps messages in flight (no starvation).
    answer(first);
    Message<AppendBatch> fifth = next();
    assertEquals(List.of(bg3), jobs(fifth), "held background write goes with the next answer");
    answer(third);
    answer(fourth);
    answer(fifth);
    for (String id : List.of(bg1, int1, bg2, int2, bg3, int3)) {
      AppendResult r = results.get(id).toCompletionStage().toCompletableFuture().get(Patience.SECONDS, TimeUnit.SECONDS);
      assertTrue(r.accepted(), id + " answered with its own outcome");
      assertEquals(1, r.lastSequence());
    }
    onContext(ctx, () -> assertEquals(5, roundTrips.size(), "every round trip is reported"));
  }

  @Test
  void backgroundMessagesAreSmall() throws Exception {
    Context ctx = vertx.getOrCreateContext();
    CheckpointWriter writer = new CheckpointWriter(ctx, vertx.eventBus(), 10_000);
    int n = CheckpointWriter.MAX_BACKGROUND_CHUNKS + 44;
    List<String> ids = new ArrayList<>();
    onContext(ctx, () -> {
      for (int i = 0; i < n; i++) {
        String id = id();
        ids.add(id);
        writer.append(write(id), Priority.BACKGROUND);
      }
    });
    Message<AppendBatch> first = next();
    assertEquals(ids.subList(0, CheckpointWriter.MAX_BACKGROUND_CHUNKS), jobs(first),
      "a big background message would hold back the interactive writes Redis runs after it");
    assertEquals(null, batches.poll(200, TimeUnit.MILLISECONDS), "one background message in flight at most");
    answer(first);
    assertEquals(ids.subList(CheckpointWriter.MAX_BACKGROUND_CHUNKS, n), jobs(next()), "the rest after the answer");
  }

  @Test
  void backgroundMessagesAreSmallerWhileInteractiveWritesCome() throws Exception {
    Context ctx = vertx.getOrCreateContext();
    CheckpointWriter writer = new CheckpointWriter(ctx, vertx.eventBus(), 10_000);
    int small = CheckpointWriter.MAX_BACKGROUND_CHUNKS_BESIDE_INTERACTIVE;
    int n = small + 10;
    String interactive = id();
    List<String> ids = new ArrayList<>();
    onContext(ctx, () -> {
      writer.append(write(interactive), Priority.INTERACTIVE);
      for (int i = 0; i < n; i++) {
        String id = id();
        ids.add(id);
        writer.append(write(id), Priority.BACKGROUND);
      }
    });
    assertEquals(List.of(interactive), jobs(next()));
    Message<AppendBatch> background = next();
    assertEquals(ids.subList(0, small), jobs(background),
      "beside interactive writes a background message holds " + small + " chunks, not " + CheckpointWriter.MAX_BACKGROUND_CHUNKS);
    answer(background);
    assertEquals(ids.subList(small, n), jobs(next()), "the rest after the answer");
  }

  @Test
  void backgroundModelsPauseFirstAndResumeWhenWritesAreFastAgain() {
    OutboxBudget budget = new OutboxBudget(1000, 10_000);
    assertEquals(500, budget.backgroundLimit(), "background may hold half the budget at most");
    budget.take(Priority.BACKGROUND, 100);
    assertFalse(budget.exhausted(Priority.BACKGROUND));
    // Writes come back fast (1 ms: the base), then late (50 ms against a 10 ms target): the background share shrinks
    // step by step to its floor.
    tookAfterAPeriod(budget, 1_000);
    long slow = 50_000;
    for (int i = 0; i < 40; i++) {
      tookAfterAPeriod(budget, slow);
    }
    assertEquals(OutboxBudget.MIN_BACKGROUND, budget.backgroundLimit());
    assertTrue(budget.exhausted(Priority.BACKGROUND), "background pauses under pressure");
    assertFalse(budget.exhausted(Priority.INTERACTIVE), "interactive keeps running on the same budget");

    AtomicInteger resumed = new AtomicInteger();
    budget.whenRoom(Priority.BACKGROUND, resumed::incrementAndGet);
    budget.give(Priority.BACKGROUND, 99);
    assertEquals(0, resumed.get(), "1 left: the floor share is full");
    budget.give(Priority.BACKGROUND, 1);
    assertEquals(1, resumed.get(), "resumed once its share has room again");

    budget.take(Priority.BACKGROUND, 100);
    budget.whenRoom(Priority.BACKGROUND, resumed::incrementAndGet);
    for (int i = 0; i < 80; i++) {
      tookAfterAPeriod(budget, 1_000); // fast again: the share grows back
    }
    assertEquals(500, budget.backgroundLimit(), "fast writes give background its full share back");
    assertFalse(budget.exhausted(Priority.BACKGROUND));
  }

  @Test
  void aSlowMachineIsNotOverload() {
    OutboxBudget budget = new OutboxBudget(1000, 10_000);
    // Every write takes 40 ms, steadily: that is this machine's base, not queueing, so background keeps its share.
    for (int i = 0; i < 40; i++) {
      tookAfterAPeriod(budget, 40_000);
    }
    assertEquals(500, budget.backgroundLimit());
    // Queueing on top of that base (three times as long) is overload.
    for (int i = 0; i < 10; i++) {
      tookAfterAPeriod(budget, 120_000);
    }
    assertTrue(budget.backgroundLimit() < 500, "cut once writes take well over twice the base");
  }

  @Test
  void withoutATargetBackgroundOnlyHasHalfTheBudget() {
    OutboxBudget budget = new OutboxBudget(1000);
    budget.take(Priority.INTERACTIVE, 500);
    assertTrue(budget.exhausted(Priority.BACKGROUND));
    assertFalse(budget.exhausted(Priority.INTERACTIVE));
    tookAfterAPeriod(budget, 10_000_000);
    assertEquals(500, budget.backgroundLimit(), "no target: never adapted");
  }

  /** Adjusted at most every {@link OutboxBudget#ADJUST_NANOS}: each call here is one such period later. */
  private long clock = System.nanoTime();

  private void tookAfterAPeriod(OutboxBudget budget, long micros) {
    clock += OutboxBudget.ADJUST_NANOS + 1;
    budget.writeTook(micros, clock);
  }

  private String id() {
    return JobIds.newId(random);
  }

  private static AppendRequest write(String jobId) {
    return new AppendRequest(jobId, List.of(new ChunkEvent(jobId, "t", 1, System.currentTimeMillis(), null)), null);
  }

  private static List<String> jobs(Message<AppendBatch> m) {
    return m.body().appends().stream().map(AppendRequest::jobId).toList();
  }

  private static void answer(Message<AppendBatch> m) {
    m.reply(new AppendBatchResult(m.body().appends().stream()
      .map(a -> new AppendBatchResult.Outcome(new AppendResult(true, 1, JobState.RUNNING, null), null)).toList()));
  }

  private Message<AppendBatch> next() throws InterruptedException {
    Message<AppendBatch> m = batches.poll(Patience.SECONDS, TimeUnit.SECONDS);
    if (m == null) {
      throw new AssertionError("no batch was sent");
    }
    return m;
  }

  private static void onContext(Context ctx, Runnable r) throws Exception {
    java.util.concurrent.CompletableFuture<Void> done = new java.util.concurrent.CompletableFuture<>();
    ctx.runOnContext(v -> {
      try {
        r.run();
        done.complete(null);
      } catch (Throwable t) {
        done.completeExceptionally(t);
      }
    });
    done.get(Patience.SECONDS, TimeUnit.SECONDS);
  }
}
