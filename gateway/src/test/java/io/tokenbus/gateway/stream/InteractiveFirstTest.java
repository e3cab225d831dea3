package io.tokenbus.gateway.stream;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.tokenbus.events.Addresses;
import io.tokenbus.events.ChunkEvent;
import io.tokenbus.events.JobRequest;
import io.tokenbus.events.JobState;
import io.tokenbus.events.StatusEvent;
import io.tokenbus.events.internal.AppendRequest;
import io.tokenbus.gateway.GatewayConfig;
import io.vertx.core.Promise;
import io.vertx.core.eventbus.EventBus;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.function.Supplier;
import java.util.stream.LongStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Issue 10, section 3 at the gateway: live events of background jobs are written after what the event loop has
 * waiting, so an interactive chunk that came in behind a burst of background ones is written first; each stream still
 * gets every event once, in order.
 */
@Timeout(30)
class InteractiveFirstTest {
  private static HubFixture fixture;
  private static EventBus eb;

  @BeforeAll
  static void start() {
    fixture = HubFixture.start(GatewayConfig.defaults());
    eb = fixture.eb;
  }

  @AfterAll
  static void stop() {
    fixture.close();
  }

  private static <T> T on(Supplier<T> action) {
    return fixture.on(action);
  }

  private static String job() {
    return fixture.openJob(JobRequest.ask("p"));
  }

  private static List<ChunkEvent> stored(String id, long from, long to) {
    List<ChunkEvent> cs = LongStream.rangeClosed(from, to).mapToObj(s -> new ChunkEvent(id, "c" + s, s, s, null)).toList();
    eb.request(Addresses.CHECKPOINT_APPEND, new AppendRequest(id, cs, null)).await();
    return cs;
  }

  @Test
  void anInteractiveChunkIsWrittenBeforeTheBackgroundBurstThatCameFirst() throws Exception {
    String background = job();
    String interactive = job();
    fixture.jobs.rememberBackground(background);
    List<String> written = Collections.synchronizedList(new ArrayList<>());
    CollectingSink bg = new CollectingSink(e -> record(written, "background ", e));
    CollectingSink in = new CollectingSink(e -> record(written, "interactive ", e));
    fixture.follow(background, bg);
    fixture.follow(interactive, in);
    int n = 3 * JobStreamHub.BACKGROUND_SLICE + 1;
    List<ChunkEvent> burst = stored(background, 1, n);
    ChunkEvent first = stored(interactive, 1, 1).get(0);
    StatusEvent end = new StatusEvent(JobState.COMPLETED, background, n, null, null);
    eb.request(Addresses.CHECKPOINT_APPEND, new AppendRequest(background, List.of(), end)).await();

    // One event-loop turn, as a read from a worker's connection brings them: the background burst and its end first.
    on(() -> {
      burst.forEach(c -> eb.publish(Addresses.chunk(background), c));
      eb.publish(Addresses.status(background), end);
      eb.publish(Addresses.chunk(interactive), first);
      return null;
    });
    List<Object> expected = new ArrayList<>(LongStream.rangeClosed(1, n).mapToObj(s -> "background " + s).toList());
    expected.add(JobState.COMPLETED);
    assertEquals(expected, bg.take(n + 1), "every background event once, in order, the end last");
    assertEquals(List.of("interactive 1"), in.take(1));
    assertEquals("interactive 1", written.get(0), "written before the background chunks that came in first");
    assertEquals(n + 1, written.size());
  }

  private static String record(List<String> written, String kind, FeedEvent e) {
    String label = kind + ((ChunkEvent) e.event()).sequence();
    written.add(label);
    return label;
  }

  @Test
  void backgroundEventsWaitingTheirTurnCountTowardTheQueueBound() {
    // The hub's bound (shed background at 5 queued, everything beyond 10) with 11 deferred events and an empty loop.
    Promise<Integer> level = Promise.promise();
    LoopPressure pressure = on(() -> new LoopPressure(fixture.node.vertx(), 10, 5, () -> 11, level::tryComplete));
    try {
      assertEquals(LoopPressure.ALL, level.future().await(), "deferred events are queued work like tasks");
    } finally {
      on(() -> {
        pressure.close();
        return null;
      });
    }
  }
}
