package io.tokenbus.gateway.stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tokenbus.events.Addresses;
import io.tokenbus.events.ChunkEvent;
import io.tokenbus.events.JobIds;
import io.tokenbus.events.JobRequest;
import io.tokenbus.events.JobState;
import io.tokenbus.events.ErrorCode;
import io.tokenbus.events.StatusEvent;
import io.tokenbus.events.TokenbusException;
import io.tokenbus.events.internal.AppendRequest;
import io.tokenbus.events.internal.JobAssignment;
import io.tokenbus.events.internal.JobSnapshot;
import io.tokenbus.gateway.GatewayConfig;
import io.tokenbus.testing.Patience;
import io.vertx.core.eventbus.EventBus;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Map;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import java.util.stream.LongStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The replay/live merge on its own: chunks are stored in a real checkpoint store, live events are published by hand
 * with some "lost", duplicated or early, and the follower must deliver every chunk exactly once, in order.
 */
@org.junit.jupiter.api.Timeout(30)
class FollowerTest {
  private static HubFixture fixture;
  private static EventBus eb;
  private static JobStreamHub hub;

  @BeforeAll
  static void start() {
    GatewayConfig config = GatewayConfig.defaults();
    // A short idle period so the test of lost terminal events does not wait long.
    GatewayConfig fastPoll = config.withPort(0).withIdlePollMs(200);
    fixture = HubFixture.start(fastPoll);
    eb = fixture.eb;
    hub = fixture.hub;
  }

  @AfterAll
  static void stop() {
    fixture.close();
  }

  /** Runs on the hub's context and waits for the result (the hub is event-loop confined). */
  private static <T> T on(Supplier<T> action) {
    return fixture.on(action);
  }

  /** A client that records each chunk's sequence. */
  private static CollectingSink collecting() {
    return new CollectingSink(e -> ((ChunkEvent) e.event()).sequence());
  }

  private static String jobWithStoredChunks(long n, boolean terminal) {
    String id = JobIds.newId(new SecureRandom());
    eb.request(Addresses.CHECKPOINT_OPEN, new JobAssignment(id, JobRequest.ask("p"), 1)).await();
    eb.request(Addresses.CHECKPOINT_APPEND, new AppendRequest(id, chunks(id, 1, n),
      terminal ? new StatusEvent(JobState.COMPLETED, id, n, null, null) : null)).await();
    return id;
  }

  private static List<ChunkEvent> chunks(String id, long from, long to) {
    return LongStream.rangeClosed(from, to).mapToObj(s -> new ChunkEvent(id, "c" + s, s, s, null)).toList();
  }

  private static void live(String id, long seq) {
    eb.publish(Addresses.chunk(id), new ChunkEvent(id, "c" + seq, seq, seq, null));
  }

  private static Follower follow(String id, CollectingSink sink) {
    Follower f = on(() -> {
      Follower x = hub.follow(id, sink);
      x.want(true, true, true);
      return x;
    });
    f.feed().registered().await();
    return f;
  }

  @Test
  void lostLiveChunksAreReadBackFromTheStoreBeforeLaterOnes() throws Exception {
    String id = jobWithStoredChunks(6, false);
    CollectingSink sink = collecting();
    follow(id, sink);
    live(id, 1);
    live(id, 2);
    live(id, 5); // 3 and 4 never arrive live
    live(id, 2); // a duplicate
    live(id, 6);
    assertEquals(List.of(1L, 2L, 3L, 4L, 5L, 6L), sink.take(6));
    eb.publish(Addresses.status(id), new StatusEvent(JobState.COMPLETED, id, 6, null, null));
    assertEquals(List.of(JobState.COMPLETED), sink.take(1));
    assertEquals(null, sink.events.poll(300, TimeUnit.MILLISECONDS));
  }

  @Test
  void replayLeavesOutWhatWasDeliveredLiveAndLiveSkipsWhatTheReplayHeld() throws Exception {
    String id = jobWithStoredChunks(8, false);
    CollectingSink sink = collecting();
    Follower f = follow(id, sink);
    live(id, 4);
    live(id, 5);
    assertEquals(List.of(4L, 5L), sink.take(2));
    JobSnapshot reply = on(() -> f.replay(0)).await();
    assertEquals(List.of(1L, 2L, 3L, 6L, 7L, 8L), reply.chunks().stream().map(ChunkEvent::sequence).toList());
    on(() -> {
      f.replayWritten(reply);
      return null;
    });
    live(id, 6); // already in the reply
    live(id, 9);
    assertEquals(List.of(9L), sink.take(1), "9 only: 6 was in the reply");
    assertEquals(null, sink.events.poll(300, TimeUnit.MILLISECONDS));
  }

  @Test
  void aTerminalEventTheBusLostIsFoundByTheIdleCheck() throws Exception {
    String id = jobWithStoredChunks(3, true); // stored, never published live
    CollectingSink sink = collecting();
    Follower f = follow(id, sink);
    on(() -> {
      f.holdUntilReplay(0);
      return null;
    });
    JobSnapshot reply = on(() -> f.replay(1)).await();
    assertEquals(List.of(2L, 3L), reply.chunks().stream().map(ChunkEvent::sequence).toList());
    on(() -> {
      f.replayWritten(reply);
      return null;
    });
    assertEquals(List.of(JobState.COMPLETED), sink.take(1));

    String running = jobWithStoredChunks(2, false);
    CollectingSink other = collecting();
    Follower g = follow(running, other);
    live(running, 1);
    assertEquals(List.of(1L), other.take(1));
    // The job ends while the bus drops everything: chunk 2 and the terminal event arrive through the idle check.
    eb.request(Addresses.CHECKPOINT_APPEND, new AppendRequest(running, List.of(),
      new StatusEvent(JobState.COMPLETED, running, 2, null, null))).await();
    assertEquals(List.of(2L, JobState.COMPLETED), other.take(2));
    on(() -> {
      g.close();
      return null;
    });
  }

  private static void store(String id, long from, long to, StatusEvent terminal) {
    eb.request(Addresses.CHECKPOINT_APPEND, new AppendRequest(id, chunks(id, from, to), terminal)).await();
  }

  private static JobSnapshot replay(Follower f, long after) {
    JobSnapshot reply = on(() -> f.replay(after)).await();
    on(() -> {
      f.replayWritten(reply);
      return null;
    });
    return reply;
  }

  /** Counts every sequence the client got, from replies and from the sink, until the terminal event. */
  private static Map<Long, Integer> untilTerminal(CollectingSink sink, List<JobSnapshot> replies) throws InterruptedException {
    Map<Long, Integer> got = new HashMap<>();
    replies.forEach(r -> r.chunks().forEach(c -> got.merge(c.sequence(), 1, Integer::sum)));
    while (true) {
      Object o = sink.events.poll(Patience.SECONDS, TimeUnit.SECONDS);
      if (o == null) {
        throw new AssertionError("no terminal event; got " + got.size() + " chunks");
      }
      if (o instanceof Long s) {
        got.merge(s, 1, Integer::sum);
      } else if (o == JobState.COMPLETED) {
        return got;
      } else {
        throw new AssertionError("unexpected " + o);
      }
    }
  }

  private static void assertExactlyOnce(Map<Long, Integer> got, long last) {
    assertEquals(last, got.size(), "every chunk 1.." + last);
    got.forEach((s, n) -> assertEquals(1, n, "chunk " + s + " delivered " + n + " times"));
    assertTrue(got.keySet().stream().allMatch(s -> s >= 1 && s <= last));
  }

  /** Issue 7, 9(a). Failed before: the idle check of a new feed pushed 1..10 as live, so a client resuming after 6 got 1..6 twice. */
  @Test
  void storeReadsOfTheIdleCheckDoNotStartAClientThatHasNotSaidWhereItStands() throws Exception {
    String id = jobWithStoredChunks(10, false);
    CollectingSink sink = collecting();
    Follower f = follow(id, sink);
    on(() -> f.feed().pollIfIdle(0)).await();
    JobSnapshot reply = replay(f, 6);
    assertEquals(List.of(7L, 8L, 9L, 10L), reply.chunks().stream().map(ChunkEvent::sequence).toList());
    store(id, 11, 11, new StatusEvent(JobState.COMPLETED, id, 11, null, null));
    live(id, 11);
    eb.publish(Addresses.status(id), new StatusEvent(JobState.COMPLETED, id, 11, null, null));
    assertEquals(List.of(11L, JobState.COMPLETED), sink.take(2));
  }

  /** Issue 7, 9(b). Failed before: paging a running job repeated what the gap fill had already delivered. */
  @Test
  void pagingARunningJobFarAheadDeliversEveryChunkOnce() throws Exception {
    String id = jobWithStoredChunks(5000, false);
    CollectingSink sink = collecting();
    Follower f = follow(id, sink);
    List<JobSnapshot> replies = new ArrayList<>();
    replies.add(replay(f, 0));
    store(id, 5001, 5001, null);
    live(id, 5001);
    // A client paging on by itself, as the old contract asked: never given a chunk twice.
    replies.add(replay(f, 2000));
    replies.add(replay(f, 4000));
    store(id, 5002, 5002, new StatusEvent(JobState.COMPLETED, id, 5002, null, null));
    eb.publish(Addresses.status(id), new StatusEvent(JobState.COMPLETED, id, 5002, null, null));
    assertExactlyOnce(untilTerminal(sink, replies), 5002);
    assertTrue(replies.stream().noneMatch(JobSnapshot::hasMore), "the follower sends the rest itself");
  }

  /** Issue 7, 9(c). Failed before: the terminal event went out as soon as the live window reached it, before 2001..2998. */
  @Test
  void aTerminalWaitsForTheRangeAReplayStillOwes() throws Exception {
    String id = jobWithStoredChunks(3000, false);
    CollectingSink sink = collecting();
    Follower f = follow(id, sink);
    live(id, 2999);
    live(id, 3000);
    assertEquals(List.of(2999L, 3000L), sink.take(2));
    JobSnapshot page = on(() -> f.replay(0)).await();
    eb.request(Addresses.CHECKPOINT_APPEND, new AppendRequest(id, List.of(), new StatusEvent(JobState.COMPLETED, id, 3000, null, null))).await();
    eb.publish(Addresses.status(id), new StatusEvent(JobState.COMPLETED, id, 3000, null, null));
    on(() -> {
      f.replayWritten(page);
      return null;
    });
    Map<Long, Integer> got = untilTerminal(sink, List.of(page));
    got.merge(2999L, 1, Integer::sum);
    got.merge(3000L, 1, Integer::sum);
    assertExactlyOnce(got, 3000);
  }

  /** Failed before: a second concurrent replay was answered 500 internal. */
  @Test
  void aSecondReplayWhileOneRunsIsAConflict() throws Exception {
    String id = jobWithStoredChunks(3, false);
    Follower f = follow(id, collecting());
    on(() -> f.replay(0));
    Throwable t = on(() -> f.replay(0)).transform(ar -> io.vertx.core.Future.succeededFuture(ar.cause())).await();
    assertEquals(ErrorCode.CONFLICT, TokenbusException.from(t).code());
  }

  /** Issue 7, 5. Failed before: chunks the store no longer had were skipped and the terminal delivered after the hole. */
  @Test
  void chunksTheStoreLostEndTheStreamWithHistoryLostInsteadOfAHole() throws Exception {
    String id = jobWithStoredChunks(5, false);
    CollectingSink sink = collecting();
    follow(id, sink);
    live(id, 1);
    assertEquals(List.of(1L), sink.take(1));
    io.vertx.redis.client.Redis r = io.vertx.redis.client.Redis.createClient(fixture.node.vertx(), fixture.redis.url());
    r.send(io.vertx.redis.client.Request.cmd(io.vertx.redis.client.Command.DEL).arg("tb:job:{" + id + "}:log")).await();
    r.close();
    eb.publish(Addresses.status(id), new StatusEvent(JobState.COMPLETED, id, 5, null, null));
    assertEquals(List.of(ErrorCode.HISTORY_LOST), sink.take(1));
  }
}
