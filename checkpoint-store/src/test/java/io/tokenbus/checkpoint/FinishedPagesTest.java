package io.tokenbus.checkpoint;

import static io.tokenbus.checkpoint.StoreFixture.chunks;
import static io.tokenbus.checkpoint.StoreFixture.failure;
import static io.tokenbus.checkpoint.StoreFixture.log;
import static io.tokenbus.checkpoint.StoreFixture.meta;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tokenbus.events.ErrorCode;
import io.tokenbus.events.JobState;
import io.tokenbus.events.StatusEvent;
import io.tokenbus.events.internal.JobSnapshot;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Long pages of finished jobs are answered from memory once Redis confirms it still holds the job (real Redis; losses
 * made by hand), and the memory they take stays within its bound.
 */
class FinishedPagesTest {
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

  private String finished(int chunks) {
    String id = f.open();
    f.append(id, chunks(id, 1, chunks), new StatusEvent(JobState.COMPLETED, id, chunks, "r", null));
    return id;
  }

  private double hits() {
    return f.node.registry().get("tokenbus_checkpoint_replay_cache_reads").tag("result", "hit").functionCounter().count();
  }

  @Test
  void aLongPageReadAgainIsTwoSmallCommandsAndTheSamePage() {
    String id = finished(450);
    double before = f.commandsSent();
    JobSnapshot first = f.replay(id, 130);
    double fromRedis = f.commandsSent() - before;
    double hits = hits();
    JobSnapshot again = f.replay(id, 130);
    assertEquals(3, fromRedis, "the first read: the first chunks, then the state and the range");
    assertEquals(2, f.commandsSent() - before - fromRedis, "read again: the job's last sequence and its log's length");
    assertEquals(hits + 1, hits());
    assertEquals(chunks(id, 131, 330), again.chunks());
    assertEquals(first.chunks(), again.chunks());
    assertEquals(first.terminal(), again.terminal());
    assertTrue(again.hasMore());
    assertEquals(450, again.lastSequence());
    assertEquals(first.replayJsonBytes(), again.replayJsonBytes());
  }

  @Test
  void aRunningJobsPageIsReadFromRedisEveryTime() {
    String id = f.open();
    f.append(id, chunks(id, 1, 150), null);
    assertEquals(150, f.replay(id, 0).chunks().size());
    f.append(id, chunks(id, 151, 180), new StatusEvent(JobState.COMPLETED, id, 180, "r", null));
    JobSnapshot s = f.replay(id, 0);
    assertEquals(chunks(id, 1, 180), s.chunks());
    assertNotNull(s.terminal());
  }

  @Test
  void aKeptPageIsNotAnsweredOnceRedisLostAnyOfTheJob() {
    String holed = finished(450);
    f.replay(holed, 0);
    f.replay(holed, 0); // kept and confirmed
    f.redis("XDEL", log(holed), "420-0"); // beyond the page itself: the job's history is no longer whole
    assertEquals(ErrorCode.HISTORY_LOST, failure(f.replayAsync(holed, 300)).code(), "the page the hole is in");
    assertEquals(chunks(holed, 1, PAGE), f.replay(holed, 0).chunks(), "a page before the hole still reads");

    String gone = finished(450);
    f.replay(gone, 0);
    f.redis("DEL", meta(gone), log(gone)); // expired, or Redis restarted empty
    assertEquals(ErrorCode.NOT_FOUND, failure(f.replayAsync(gone, 0)).code());

    String logLost = finished(450);
    f.replay(logLost, 0);
    f.redis("DEL", log(logLost));
    assertEquals(ErrorCode.HISTORY_LOST, failure(f.replayAsync(logLost, 0)).code());
  }

  @Test
  void memoryStaysWithinItsBoundLeastRecentlyReadFirst() {
    String a = finished(150);
    String b = finished(150);
    String c = finished(150);
    JobSnapshot pa = f.replay(a, 0);
    JobSnapshot pb = f.replay(b, 0);
    JobSnapshot pc = f.replay(c, 0);
    long one = sizeOf(pa);
    FinishedPages pages = new FinishedPages(one * 4 + one / 2); // room for four such pages, and a page is under a quarter
    pages.put(a, 0, PAGE, pa);
    pages.put(b, 0, PAGE, pb);
    pages.put(c, 0, PAGE, pc);
    pages.put(a, 10, PAGE, pa.withChunks(pa.chunks().subList(10, 150)));
    assertNotNull(pages.get(a, 0, PAGE)); // a read makes it the most recent
    pages.put(b, 10, PAGE, pb.withChunks(pb.chunks().subList(10, 150)));
    assertTrue(pages.bytes() <= one * 4 + one / 2, pages.bytes() + " bytes held");
    assertNull(pages.get(b, 0, PAGE), "the least recently read page went first");
    assertNotNull(pages.get(a, 0, PAGE));
    assertEquals(pa.chunks(), pages.get(a, 0, PAGE).snapshot(a, 0).chunks());

    FinishedPages small = new FinishedPages(one * 3);
    small.put(a, 0, PAGE, pa);
    assertNull(small.get(a, 0, PAGE), "a page over a quarter of the memory is not kept");
    assertEquals(0, small.bytes());
    FinishedPages off = new FinishedPages(0);
    assertFalse(off.keeps(PAGE));
    off.put(a, 0, PAGE, pa);
    assertNull(off.get(a, 0, PAGE));
    assertFalse(pages.keeps(JobReads.ATOMIC_CHUNKS), "short reads are one script call anyway");
  }

  private static long sizeOf(JobSnapshot s) {
    FinishedPages probe = new FinishedPages(Long.MAX_VALUE);
    probe.put(s.jobId(), 0, PAGE, s);
    return probe.bytes();
  }
}
