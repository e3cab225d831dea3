package io.tokenbus.checkpoint;

import static io.tokenbus.checkpoint.StoreFixture.chunks;
import static io.tokenbus.checkpoint.StoreFixture.meta;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tokenbus.events.Addresses;
import io.tokenbus.events.ErrorCode;
import io.tokenbus.events.JobState;
import io.tokenbus.events.StatusEvent;
import io.tokenbus.events.TokenbusException;
import io.tokenbus.events.internal.AppendBatch;
import io.tokenbus.events.internal.AppendBatchResult;
import io.tokenbus.events.internal.AppendRequest;
import io.tokenbus.events.internal.AppendResult;
import io.tokenbus.events.internal.JobSnapshot;
import io.vertx.core.Future;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** How commands share round trips: failures stay with their command, scripts reload once, writes go before reads. */
class PipelineTest {
  private static StoreFixture f;

  @BeforeAll
  static void start() {
    f = StoreFixture.onOwnRedis(c -> c.withRetention(Duration.ofSeconds(600)));
  }

  @AfterAll
  static void stop() {
    f.close();
  }

  @Test
  void oneFailingCommandFailsAloneInItsRoundTrip() {
    String a = f.open();
    String b = f.open();
    String broken = f.newId();
    f.redis("SET", meta(broken), "not a hash"); // every script on it fails with WRONGTYPE
    // Issued in one event-loop turn, the three leave in one round trip.
    List<Future<AppendResult>> all = f.verticle.onContext(() -> Future.succeededFuture(List.of(
      f.verticle.append(new io.tokenbus.events.internal.AppendRequest(a, chunks(a, 1, 3), null)),
      f.verticle.append(new io.tokenbus.events.internal.AppendRequest(broken, chunks(broken, 1, 3), null)),
      f.verticle.append(new io.tokenbus.events.internal.AppendRequest(b, chunks(b, 1, 3), null))))).await();
    Future.join(new ArrayList<>(all)).otherwiseEmpty().await();
    assertTrue(all.get(0).succeeded() && all.get(0).result().accepted(), String.valueOf(all.get(0).cause()));
    assertTrue(all.get(2).succeeded() && all.get(2).result().accepted(), String.valueOf(all.get(2).cause()));
    assertTrue(all.get(1).failed());
    TokenbusException e = TokenbusException.from(all.get(1).cause());
    assertEquals(ErrorCode.INTERNAL, e.code());
    assertTrue(e.getMessage().contains("WRONGTYPE"), e.getMessage());
    assertEquals(3, f.replay(a, 0).chunks().size());
    assertEquals(3, f.replay(b, 0).chunks().size());
  }

  /**
   * On standalone Redis the appends of a batch share one script call; each job still gets its own outcome, and a job
   * whose append Redis refuses fails alone.
   */
  @Test
  void aBatchOfSeveralJobsIsOneScriptCallWithAnOutcomePerJob() {
    String ok = f.open();
    String broken = f.newId();
    f.redis("SET", meta(broken), "not a hash");
    String closed = f.open();
    f.append(closed, chunks(closed, 1, 2), new StatusEvent(JobState.COMPLETED, closed, 2, "done", null));
    String fenced = f.open();
    f.redis("HSET", meta(fenced), "epoch", "2");
    String gap = f.open();
    f.append(gap, chunks(gap, 1, 2), null);
    double before = f.commandsSent();
    AppendBatchResult r = f.eb.<AppendBatchResult>request(Addresses.CHECKPOINT_APPEND_BATCH, new AppendBatch(List.of(
      new AppendRequest(ok, chunks(ok, 1, 3), null, 1),
      new AppendRequest(broken, chunks(broken, 1, 1), null, 1),
      new AppendRequest(closed, chunks(closed, 3, 3), null, 1),
      new AppendRequest(fenced, chunks(fenced, 1, 1), null, 1),
      new AppendRequest(gap, chunks(gap, 5, 5), null, 1)))).await().body();
    assertEquals(1, f.commandsSent() - before, "one script call for the five jobs");
    List<AppendBatchResult.Outcome> o = r.outcomes();
    assertTrue(o.get(0).result().accepted());
    assertEquals(3, o.get(0).result().lastSequence());
    assertEquals(ErrorCode.INTERNAL, o.get(1).failure().code());
    assertTrue(o.get(1).failure().getMessage().contains("WRONGTYPE"), o.get(1).failure().getMessage());
    assertEquals(JobState.COMPLETED, o.get(2).result().state());
    assertEquals("done", o.get(2).result().terminal().result());
    assertTrue(!o.get(3).result().accepted() && o.get(3).result().terminal() == null, "fenced: nothing written");
    assertEquals("history_lost", o.get(4).result().terminal().error().code());
    assertEquals(3, f.replay(ok, 0).chunks().size());
    assertEquals(0, f.replay(fenced, 0).chunks().size());
  }

  @Test
  void lostScriptsAreLoadedOnceForAllTheCommandsThatMissedThem() {
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < 40; i++) {
      ids.add(f.open());
    }
    long reloadsBefore = f.verticle.scriptReloads().await();
    long loadCallsBefore = scriptLoadCalls();
    f.redis("SCRIPT", "FLUSH");
    scriptFlushes++;
    List<Future<?>> all = f.verticle.onContext(() -> {
      List<Future<?>> out = new ArrayList<>();
      for (String id : ids) {
        out.add(f.verticle.append(new io.tokenbus.events.internal.AppendRequest(id, chunks(id, 1, 2), null)));
        out.add(f.verticle.replay(new io.tokenbus.events.internal.ReplayRequest(id, 0, 0)));
      }
      return Future.succeededFuture(out);
    }).await();
    Future.all(all).await();
    assertEquals(reloadsBefore + 1, f.verticle.scriptReloads().await());
    assertEquals(loadCallsBefore + Scripts.values().length, scriptLoadCalls(), "each script loaded once");
    for (String id : ids) {
      assertEquals(2, f.replay(id, 0).lastSequence());
    }
  }

  /** SCRIPT FLUSH commands this class sent (Redis before 7 counts them with the loads, below). */
  private static long scriptFlushes;

  /**
   * SCRIPT LOAD commands Redis has run. Redis 7 counts each SCRIPT subcommand apart; before 7 (the bundled Redis 6.2
   * that tests run on where no redis-server is installed) all of them count as {@code script}, so this class' own
   * flushes are taken off.
   */
  private static long scriptLoadCalls() {
    String stats = f.redis("INFO", "commandstats").toString();
    Matcher m = Pattern.compile("cmdstat_script\\|load:calls=(\\d+)").matcher(stats);
    if (m.find()) {
      return Long.parseLong(m.group(1));
    }
    Matcher all = Pattern.compile("cmdstat_script:calls=(\\d+)").matcher(stats);
    return all.find() ? Long.parseLong(all.group(1)) - scriptFlushes : 0;
  }

  @Test
  void aFloodOfReadsDoesNotHoldBackAppends() {
    String read = f.open();
    f.append(read, chunks(read, 1, 10), null);
    String written = f.open();
    List<Future<JobSnapshot>> reads = new ArrayList<>(30_000);
    for (int i = 0; i < 30_000; i++) {
      reads.add(f.replayAsync(read, 0));
    }
    // Appends of one job, one after the other as a worker sends them, while the reads are queued and answered.
    Future<AppendResult> chain = Future.succeededFuture();
    for (long s = 1; s <= 40; s++) {
      long seq = s;
      chain = chain.compose(r -> f.appendAsync(written, chunks(written, seq, seq), null));
    }
    long t0 = System.nanoTime();
    AppendResult last = chain.await();
    System.out.printf("40 sequential appends under a flood of 30,000 reads: %d ms%n", (System.nanoTime() - t0) / 1_000_000);
    assertTrue(last.accepted());
    assertEquals(40, last.lastSequence());
    Future.join(new ArrayList<>(reads)).otherwiseEmpty().await();
    int ok = 0;
    int overloaded = 0;
    for (Future<JobSnapshot> r : reads) {
      if (r.succeeded()) {
        assertEquals(10, r.result().chunks().size());
        ok++;
      } else {
        assertEquals(ErrorCode.OVERLOADED, TokenbusException.from(r.cause()).code(), r.cause().getMessage());
        overloaded++;
      }
    }
    assertTrue(ok > 0, "reads within their queue's bound are answered");
    assertTrue(overloaded > 0, "reads beyond their queue's bound are refused");
    System.out.printf("reads answered %d, refused as overloaded %d%n", ok, overloaded);
  }
}
