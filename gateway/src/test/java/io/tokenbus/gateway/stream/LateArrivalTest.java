package io.tokenbus.gateway.stream;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tokenbus.events.Addresses;
import io.tokenbus.events.ChunkEvent;
import io.tokenbus.events.JobIds;
import io.tokenbus.events.JobRequest;
import io.tokenbus.events.internal.AppendRequest;
import io.tokenbus.events.internal.InteractiveLate;
import io.tokenbus.events.internal.JobAssignment;
import io.tokenbus.events.internal.JobSnapshot;
import io.tokenbus.gateway.GatewayConfig;
import io.tokenbus.testing.Patience;
import io.vertx.core.Promise;
import io.vertx.core.eventbus.MessageConsumer;
import java.security.SecureRandom;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.LongStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Live interactive chunks that reach a gateway late (a backlog upstream of it, e.g. on the event bus between worker
 * and gateway processes) make it tell the workers on {@code tokenbus.gateway.pressure}; the lateness is counted from
 * the job's youngest arrival, so a constant offset between the worker's clock and the gateway's does not count.
 */
@org.junit.jupiter.api.Timeout(30)
class LateArrivalTest {
  private static HubFixture fixture;

  @BeforeAll
  static void start() {
    fixture = HubFixture.start(GatewayConfig.defaults());
  }

  @AfterAll
  static void stop() {
    fixture.close();
  }

  private record Followed(String id, CollectingSink sink) {}

  private static Followed followedJob() {
    String id = JobIds.newId(new SecureRandom());
    fixture.eb.request(Addresses.CHECKPOINT_OPEN, new JobAssignment(id, JobRequest.ask("p"), 1)).await();
    CollectingSink sink = new CollectingSink(e -> String.valueOf(((ChunkEvent) e.event()).sequence()));
    Follower f = fixture.on(() -> {
      Follower x = fixture.hub.follow(id, sink);
      x.want(true, true, true);
      return x;
    });
    f.feed().registered().await();
    JobSnapshot reply = fixture.on(() -> f.replay(0)).await();
    fixture.on(() -> {
      f.replayWritten(reply);
      return null;
    });
    return new Followed(id, sink);
  }

  /** As a worker does (stores, then publishes), each chunk formed at {@code timestampMs} by the worker's clock. */
  private static void produce(String id, long from, long to, long timestampMs) {
    List<ChunkEvent> cs = LongStream.rangeClosed(from, to).mapToObj(s -> new ChunkEvent(id, "c" + s, s, timestampMs, null)).toList();
    fixture.eb.request(Addresses.CHECKPOINT_APPEND, new AppendRequest(id, cs, null)).await();
    cs.forEach(c -> fixture.eb.publish(Addresses.chunk(id), c));
  }

  @Test
  void lateInteractiveChunksAreReportedToTheWorkers() throws Exception {
    Promise<InteractiveLate> reported = Promise.promise();
    MessageConsumer<InteractiveLate> c = fixture.eb.consumer(Addresses.GATEWAY_PRESSURE, m -> reported.tryComplete(m.body()));
    c.completion().await();
    try {
      String id = followedJob().id();
      long now = System.currentTimeMillis();
      // A worker clock an hour ahead: its chunks look young, the first one sets the job's base.
      produce(id, 1, 1, now + 3_600_000);
      produce(id, 2, 40, now + 3_600_000 - 2_000); // then 2 s late each
      InteractiveLate late = reported.future().toCompletionStage().toCompletableFuture().get(Patience.SECONDS, TimeUnit.SECONDS);
      assertTrue(late.lateMs() > ArrivalLateness.REPORT_ABOVE_MS && late.lateMs() <= 2_000, "lateness " + late.lateMs());
    } finally {
      c.unregister().await();
    }
  }

  @Test
  void chunksOnTimeAreNotLateWhateverTheWorkersClock() throws Exception {
    Followed job = followedJob();
    long now = System.currentTimeMillis();
    // A worker clock an hour behind, chunks on time; enough of them to wash out any earlier test's late ones.
    produce(job.id(), 1, 200, now - 3_600_000);
    job.sink().take(200); // each chunk's lateness is counted before it is written
    // Uncancelled, the offset would read as an hour; the burst's own spread is a few milliseconds.
    long smoothed = fixture.on(() -> fixture.hub.lateness().smoothedMs());
    assertTrue(smoothed < 20, "lateness " + smoothed);
  }
}
