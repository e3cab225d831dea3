package io.tokenbus.gateway.stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tokenbus.events.Addresses;
import io.tokenbus.events.ChunkEvent;
import io.tokenbus.events.JobIds;
import io.tokenbus.events.JobRequest;
import io.tokenbus.events.internal.JobAssignment;
import io.tokenbus.events.internal.WatchedJobs;
import io.tokenbus.gateway.GatewayConfig;
import java.security.SecureRandom;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The list of followed jobs a gateway publishes each second, from which workers tell watched jobs from unwatched. */
class WatchedJobsTest {
  private static HubFixture fixture;
  private static final LinkedBlockingQueue<WatchedJobs> lists = new LinkedBlockingQueue<>();

  @BeforeAll
  static void start() {
    fixture = HubFixture.start(GatewayConfig.defaults().withPort(0));
    fixture.eb.<WatchedJobs>consumer(Addresses.JOBS_WATCHED, m -> lists.add(m.body())).completion().await();
  }

  @AfterAll
  static void stop() {
    fixture.close();
  }

  @Test
  void aJobIsListedWhileSomebodyFollowsItAndNotOnceNobodyDoes() throws Exception {
    String id = JobIds.newId(new SecureRandom());
    fixture.eb.request(Addresses.CHECKPOINT_OPEN, new JobAssignment(id, JobRequest.ask("p"), 1)).await();
    WatchedJobs before = next(l -> true);
    assertTrue(!before.jobIds().contains(id));
    assertTrue(before.validMs() >= 2 * JobStreamHub.WATCH_PERIOD_MS, "valid past the next list: " + before.validMs());

    Follower f = fixture.on(() -> {
      Follower x = fixture.hub.follow(id, new CollectingSink(e -> ((ChunkEvent) e.event()).sequence()));
      x.want(true, true, true);
      return x;
    });
    WatchedJobs listed = next(l -> l.jobIds().contains(id));
    assertEquals(before.watcherId(), listed.watcherId(), "one publisher per hub");

    fixture.on(() -> {
      f.close();
      return null;
    });
    next(l -> !l.jobIds().contains(id));
  }

  /** The next list that matches, within three periods. */
  private static WatchedJobs next(Predicate<WatchedJobs> p) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(3 * JobStreamHub.WATCH_PERIOD_MS + 500);
    lists.clear();
    for (long left; (left = deadline - System.nanoTime()) > 0; ) {
      WatchedJobs l = lists.poll(left, TimeUnit.NANOSECONDS);
      if (l != null && p.test(l)) {
        return l;
      }
    }
    throw new AssertionError("no such list was published within three periods");
  }
}
