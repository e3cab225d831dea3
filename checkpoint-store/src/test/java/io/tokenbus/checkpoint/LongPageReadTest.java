package io.tokenbus.checkpoint;

import static io.tokenbus.checkpoint.StoreFixture.chunks;
import static io.tokenbus.checkpoint.StoreFixture.failure;
import static io.tokenbus.checkpoint.StoreFixture.log;
import static io.tokenbus.checkpoint.StoreFixture.meta;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tokenbus.events.ErrorCode;
import io.tokenbus.events.JobRequest;
import io.tokenbus.events.JobState;
import io.tokenbus.events.JobType;
import io.tokenbus.events.Priority;
import io.tokenbus.events.StatusEvent;
import io.tokenbus.events.internal.JobSnapshot;
import io.vertx.core.buffer.Buffer;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Pages longer than {@link JobReads#ATOMIC_CHUNKS}: their rest is read as the job's state and a plain range side by
 * side, which must prove itself exactly as the one-script read does (real Redis; losses made by hand).
 */
class LongPageReadTest {
  private static final int PAGE = 200;
  private static StoreFixture f;

  @BeforeAll
  static void start() {
    f = StoreFixture.onOwnRedis(c -> c.withRetention(Duration.ofSeconds(600)).withMaxReplayChunks(PAGE));
  }

  @AfterAll
  static void stop() {
    f.close();
  }

  @Test
  void aRangeEntryIsTakenOnlyWithItsOwnId() {
    assertTrue(JobReads.isEntryOf(Buffer.buffer("1-0"), 1));
    assertTrue(JobReads.isEntryOf(Buffer.buffer("10-0"), 10));
    assertTrue(JobReads.isEntryOf(Buffer.buffer("9223372036854775807-0"), Long.MAX_VALUE));
    for (String other : new String[] {"2-0", "11-0", "010-0", "110-0", "10-1", "10", "-0", "1x-0", "10-00"}) {
      assertFalse(JobReads.isEntryOf(Buffer.buffer(other), other.startsWith("2") ? 1 : 10), other);
    }
  }

  @Test
  void pagesOfAFinishedJobAreItsChunksInOrder() {
    String id = f.open();
    f.append(id, chunks(id, 1, 450), new StatusEvent(JobState.COMPLETED, id, 450, "r", null));
    JobSnapshot first = f.replay(id, 0);
    assertEquals(chunks(id, 1, PAGE), first.chunks());
    assertTrue(first.hasMore());
    assertEquals(450, first.lastSequence());
    JobSnapshot middle = f.replay(id, 130);
    assertEquals(chunks(id, 131, 330), middle.chunks());
    JobSnapshot last = f.replay(id, 400);
    assertEquals(chunks(id, 401, 450), last.chunks());
    assertFalse(last.hasMore());
    assertEquals(JobState.COMPLETED, last.terminal().state());
  }

  @Test
  void everyReadTellsTheJobsPriority() {
    // Gateways that did not take a background job's submission learn its priority from their reads.
    String bg = f.open(new JobRequest("p", JobType.ASK, null, null, 1, Priority.BACKGROUND));
    f.append(bg, chunks(bg, 1, 150), null);
    assertEquals(Priority.BACKGROUND, f.replay(bg, 140).priority(), "a short read");
    assertEquals(Priority.BACKGROUND, f.replay(bg, 0).priority(), "a long page (state and range)");
    assertEquals(Priority.INTERACTIVE, f.replay(f.open(), 0).priority());
  }

  @Test
  void aFinishedJobsTerminalIsParsedOnceAndKeptOnlyWhileItIsTheStoredOne() {
    // The terminal holds the whole answer and comes with every page of a replay: it was parsed for each.
    String id = f.open();
    f.append(id, chunks(id, 1, 30), new StatusEvent(JobState.COMPLETED, id, 30, "the whole answer", null));
    JobSnapshot first = f.replay(id, 0);
    JobSnapshot again = f.replay(id, 10);
    assertSame(first.terminal(), again.terminal());
    f.redis("HSET", meta(id), "terminal", new StatusEvent(JobState.COMPLETED, id, 30, "changed by hand", null).toJson().encode());
    assertEquals("changed by hand", f.replay(id, 10).terminal().result(), "a stored terminal that changed is read anew");
  }

  @Test
  void aShortReadIsOneScriptCall() {
    // Most reads (a stream opening on a running job, the idle check) are short: two commands each would halve how
    // many fit in the store's bounded read queue.
    String id = f.open();
    f.append(id, chunks(id, 1, 30), null);
    double before = f.commandsSent();
    assertEquals(chunks(id, 11, 30), f.replay(id, 10).chunks());
    assertEquals(1, f.commandsSent() - before);
  }

  @Test
  void aPageEndsAtTheStoredLastThoughTheLogHoldsMore() {
    // An append landing between the state read and the range read must not show chunks beyond the last sequence
    // the same answer reports.
    String id = f.open();
    f.append(id, chunks(id, 1, 100), null);
    f.redis("XADD", log(id), "101-0", "c", chunks(id, 101, 101).get(0).encoded());
    JobSnapshot s = f.replay(id, 0);
    assertEquals(chunks(id, 1, 100), s.chunks());
    assertEquals(100, s.lastSequence());
    assertFalse(s.hasMore());
  }

  @Test
  void aHoleBeyondTheFirstChunksIsHistoryLost() {
    String id = f.open();
    f.append(id, chunks(id, 1, 150), null);
    f.redis("XDEL", log(id), "120-0");
    assertEquals(ErrorCode.HISTORY_LOST, failure(f.replayAsync(id, 0)).code());
    assertEquals(ErrorCode.HISTORY_LOST, failure(f.replayAsync(id, 100)).code());
    assertEquals(chunks(id, 121, 150), f.replay(id, 120).chunks());
  }
}
