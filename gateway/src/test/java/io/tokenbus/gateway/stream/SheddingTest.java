package io.tokenbus.gateway.stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tokenbus.events.Addresses;
import io.tokenbus.events.ChunkEvent;
import io.tokenbus.events.JobRequest;
import io.tokenbus.events.JobState;
import io.tokenbus.events.JobType;
import io.tokenbus.events.Priority;
import io.tokenbus.events.StatusEvent;
import io.tokenbus.events.internal.AppendRequest;
import io.tokenbus.gateway.GatewayConfig;
import io.tokenbus.gateway.jobs.JobService;
import io.vertx.core.eventbus.EventBus;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import java.util.stream.LongStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Overload on a gateway (its event-loop queue over the bound): a background job's stream stops taking live events and
 * is fed from the checkpoint store, an interactive one stays live, and both still get every chunk exactly once, in
 * order, and their terminal — across the switch and back. Chunks are stored before they are published, as workers do.
 */
@org.junit.jupiter.api.Timeout(30)
class SheddingTest {
  private static HubFixture fixture;
  private static EventBus eb;
  private static JobService jobs;
  private static JobStreamHub hub;

  @BeforeAll
  static void start() {
    fixture = HubFixture.start(GatewayConfig.defaults());
    eb = fixture.eb;
    jobs = fixture.jobs;
    hub = fixture.hub;
  }

  @AfterAll
  static void stop() {
    fixture.close();
  }

  private static <T> T on(Supplier<T> action) {
    return fixture.on(action);
  }

  /** Records each chunk's sequence and whether it came live from the bus or was read from the store. */
  private static CollectingSink recording() {
    return new CollectingSink(e -> (e.live() ? "live " : "store ") + ((ChunkEvent) e.event()).sequence());
  }

  private static String job() {
    return job(JobRequest.ask("p"));
  }

  private static String job(JobRequest request) {
    return fixture.openJob(request);
  }

  /** As a worker does: stores the chunks, then publishes them. */
  private static void produce(String id, long from, long to) {
    List<ChunkEvent> cs = LongStream.rangeClosed(from, to).mapToObj(s -> new ChunkEvent(id, "c" + s, s, s, null)).toList();
    eb.request(Addresses.CHECKPOINT_APPEND, new AppendRequest(id, cs, null)).await();
    cs.forEach(c -> eb.publish(Addresses.chunk(id), c));
  }

  private static void end(String id, long last) {
    StatusEvent done = new StatusEvent(JobState.COMPLETED, id, last, null, null);
    eb.request(Addresses.CHECKPOINT_APPEND, new AppendRequest(id, List.of(), done)).await();
    eb.publish(Addresses.status(id), done);
  }

  private static Follower follow(String id, CollectingSink sink) {
    return fixture.follow(id, sink);
  }

  @Test
  void theHubWatchesItsEventLoopsQueue() {
    assertTrue(on(() -> hub.watchesQueue()), "Netty's event loop exposes its queue; without it nothing would be shed");
  }

  @Test
  void backgroundStreamsReadFromTheStoreUnderOverloadAndLoseNothing() throws Exception {
    String background = job();
    String interactive = job();
    jobs.rememberBackground(background);
    CollectingSink bg = recording();
    CollectingSink in = recording();
    Follower bgFollower = follow(background, bg);
    follow(interactive, in);
    produce(background, 1, 2);
    produce(interactive, 1, 2);
    assertEquals(List.of("live 1", "live 2"), bg.take(2));
    assertEquals(List.of("live 1", "live 2"), in.take(2));

    on(() -> {
      hub.shed(LoopPressure.BACKGROUND);
      return null;
    });
    assertTrue(on(() -> bgFollower.feed().detached()), "the background feed left the bus");
    produce(background, 3, 5);
    produce(interactive, 3, 5);
    assertEquals(List.of("live 3", "live 4", "live 5"), in.take(3), "interactive stays live");
    assertEquals(List.of("store 3", "store 4", "store 5"), bg.take(3), "background is fed from the store, in order");

    on(() -> {
      hub.shed(0);
      return null;
    });
    assertFalse(on(() -> bgFollower.feed().detached()));
    bgFollower.feed().registered().await();
    produce(background, 6, 7);
    end(background, 7);
    assertEquals(List.of(6L, 7L, JobState.COMPLETED), numbers(bg.take(3)), "live again, then the end");
    assertEquals(null, bg.events.poll(300, TimeUnit.MILLISECONDS), "nothing twice");
  }

  @Test
  void aBackgroundJobSubmittedThroughAnotherGatewayIsKnownFromTheStore() throws Exception {
    // Opened in the store as background, never submitted through this gateway (no rememberBackground): the stream's
    // first read tells the feed, which then yields under overload like a job submitted here.
    String background = job(new JobRequest("p", JobType.ASK, null, null, 1, Priority.BACKGROUND));
    CollectingSink bg = recording();
    Follower f = follow(background, bg);
    assertTrue(on(() -> f.feed().background()), "learned from the store's answer to the stream's replay");
    on(() -> {
      hub.shed(LoopPressure.BACKGROUND);
      return null;
    });
    try {
      assertTrue(on(() -> f.feed().detached()), "the background feed left the bus");
      produce(background, 1, 3);
      end(background, 3);
      assertEquals(List.of("store 1", "store 2", "store 3", JobState.COMPLETED), bg.take(4));
    } finally {
      on(() -> {
        hub.shed(0);
        return null;
      });
    }
  }

  @Test
  void aBackgroundJobFollowedDuringOverloadStartsDetachedAndGetsItsEnd() throws Exception {
    String background = job();
    jobs.rememberBackground(background);
    on(() -> {
      hub.shed(LoopPressure.BACKGROUND);
      return null;
    });
    try {
      CollectingSink bg = recording();
      Follower f = follow(background, bg);
      assertTrue(on(() -> f.feed().detached()));
      produce(background, 1, 4);
      end(background, 4);
      assertEquals(List.of("store 1", "store 2", "store 3", "store 4", JobState.COMPLETED), bg.take(5));
      assertEquals(null, bg.events.poll(300, TimeUnit.MILLISECONDS));
    } finally {
      on(() -> {
        hub.shed(0);
        return null;
      });
    }
  }

  @Test
  void beyondTwiceTheBoundInteractiveStreamsReadFromTheStoreToo() throws Exception {
    String interactive = job();
    CollectingSink in = recording();
    Follower f = follow(interactive, in);
    on(() -> {
      hub.shed(LoopPressure.BACKGROUND);
      return null;
    });
    assertFalse(on(() -> f.feed().detached()), "interactive stays live while background sheds");
    on(() -> {
      hub.shed(LoopPressure.ALL);
      return null;
    });
    try {
      assertTrue(on(() -> f.feed().detached()), "memory stays bounded whatever the mix");
      produce(interactive, 1, 3);
      assertEquals(List.of("store 1", "store 2", "store 3"), in.take(3));
    } finally {
      on(() -> {
        hub.shed(0);
        return null;
      });
    }
    f.feed().registered().await();
    produce(interactive, 4, 4);
    end(interactive, 4);
    assertEquals(List.of(4L, JobState.COMPLETED), numbers(in.take(2)));
    assertEquals(null, in.events.poll(300, TimeUnit.MILLISECONDS));
  }

  private static List<Object> numbers(List<Object> events) {
    return events.stream().map(e -> e instanceof String s ? (Object) Long.parseLong(s.substring(s.indexOf(' ') + 1)) : e).toList();
  }
}
