package io.tokenbus.checkpoint;

import static io.tokenbus.checkpoint.StoreFixture.chunks;
import static io.tokenbus.checkpoint.StoreFixture.failure;
import static io.tokenbus.checkpoint.StoreFixture.log;
import static io.tokenbus.checkpoint.StoreFixture.meta;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tokenbus.events.ErrorCode;
import io.tokenbus.events.JobError;
import io.tokenbus.events.JobState;
import io.tokenbus.events.StatusEvent;
import io.tokenbus.events.TokenbusException;
import io.tokenbus.events.internal.AppendResult;
import io.tokenbus.events.internal.JobSnapshot;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The store proves every range it returns complete, and closes a job it lost part of as history_lost. Losses are made
 * by hand (DEL, XTRIM, XDEL) as eviction, a restart without persistence or a failover to a lagging replica would.
 */
class ContinuityTest {
  private static StoreFixture f;

  @BeforeAll
  static void start() {
    f = StoreFixture.onOwnRedis(c -> c.withRetention(Duration.ofSeconds(600)).withMaxReplayChunks(4));
  }

  @AfterAll
  static void stop() {
    f.close();
  }

  private static void assertHistoryLost(String id, long after) {
    TokenbusException e = failure(f.replayAsync(id, after));
    assertEquals(ErrorCode.HISTORY_LOST, e.code(), e.getMessage());
  }

  private static void assertHistoryLostTerminal(String id, long last, StatusEvent t) {
    assertNotNull(t, "a job closed for a loss carries its terminal event");
    assertEquals(JobState.FAILED, t.state());
    assertEquals(id, t.jobId());
    assertEquals(last, t.lastSequence());
    assertEquals(JobError.HISTORY_LOST, t.error().code());
  }

  @Test
  void askingBeyondTheStoredLastIsHistoryLost() {
    String id = f.open();
    f.append(id, chunks(id, 1, 3), null);
    assertHistoryLost(id, 4);
    assertTrue(f.replay(id, 3).chunks().isEmpty());
  }

  @Test
  void aDeletedLogOfAFinishedJobIsHistoryLost() {
    String id = f.open();
    f.append(id, chunks(id, 1, 6), new StatusEvent(JobState.COMPLETED, id, 6, "r", null));
    f.redis("DEL", log(id));
    assertHistoryLost(id, 0);
    assertHistoryLost(id, 5);
    JobSnapshot end = f.replay(id, 6);
    assertEquals(JobState.COMPLETED, end.state());
    assertNotNull(end.terminal(), "nothing to prove after the last chunk: the terminal is still readable");
  }

  @Test
  void aPartlyTrimmedLogIsHistoryLostWhereItIsCut() {
    String id = f.open();
    f.append(id, chunks(id, 1, 10), null);
    f.redis("XTRIM", log(id), "MAXLEN", "5"); // keeps 6..10
    assertHistoryLost(id, 0);
    assertHistoryLost(id, 4);
    JobSnapshot s = f.replay(id, 5);
    assertEquals(chunks(id, 6, 9), s.chunks());
    assertTrue(s.hasMore());
    f.redis("XDEL", log(id), "8-0"); // a hole inside a page
    assertHistoryLost(id, 5);
    assertHistoryLost(id, 7);
    assertEquals(chunks(id, 9, 10), f.replay(id, 8).chunks());
  }

  @Test
  void anAppendAfterTheJobVanishedClosesItWithATombstone() {
    String id = f.open();
    f.append(id, chunks(id, 1, 3), null);
    f.redis("DEL", meta(id), log(id)); // Redis restarted empty
    AppendResult r = f.append(id, chunks(id, 4, 5), null);
    assertFalse(r.accepted());
    assertEquals(JobState.FAILED, r.state());
    assertHistoryLostTerminal(id, 3, r.terminal());
    JobSnapshot s = f.replay(id, 3);
    assertEquals(JobState.FAILED, s.state());
    assertEquals(r.terminal(), s.terminal());
    assertHistoryLost(id, 0);
    long ttl = f.redis("PTTL", meta(id)).toLong();
    assertTrue(ttl > 590_000 && ttl <= 600_000, "the tombstone expires after the retention: " + ttl);
    AppendResult again = f.append(id, chunks(id, 4, 5), new StatusEvent(JobState.COMPLETED, id, 5, "r", null));
    assertFalse(again.accepted());
    assertEquals(r.terminal(), again.terminal(), "the tombstone's terminal wins");
  }

  @Test
  void aTerminalOnlyAppendAfterTheJobVanishedClosesItAtTheWritersLast() {
    String id = f.open();
    f.redis("DEL", meta(id));
    AppendResult r = f.append(id, java.util.List.of(), new StatusEvent(JobState.COMPLETED, id, 7, "r", null));
    assertFalse(r.accepted());
    assertHistoryLostTerminal(id, 7, r.terminal());
  }

  @Test
  void anAppendLeavingAGapClosesTheJobAtTheStoresLast() {
    String id = f.open();
    f.append(id, chunks(id, 1, 5), null);
    AppendResult r = f.append(id, chunks(id, 8, 9), null); // the store lost 6..7 it had acknowledged
    assertFalse(r.accepted());
    assertEquals(5, r.lastSequence());
    assertHistoryLostTerminal(id, 5, r.terminal());
    JobSnapshot s = f.replay(id, 4);
    assertEquals(JobState.FAILED, s.state());
    assertEquals(chunks(id, 5, 5), s.chunks());
    AppendResult late = f.append(id, chunks(id, 6, 6), null);
    assertFalse(late.accepted());
    assertEquals(r.terminal(), late.terminal());
  }

  @Test
  void aTerminalClaimingMoreThanIsStoredClosesTheJobAsHistoryLost() {
    String id = f.open();
    f.append(id, chunks(id, 1, 2), null);
    AppendResult r = f.append(id, java.util.List.of(), new StatusEvent(JobState.COMPLETED, id, 4, "r", null));
    assertFalse(r.accepted());
    assertHistoryLostTerminal(id, 2, r.terminal());
  }
}
