package io.tokenbus.checkpoint;

import static io.tokenbus.checkpoint.StoreFixture.chunks;

import io.micrometer.core.instrument.DistributionSummary;
import io.tokenbus.testing.RedisClusterProcess;
import io.tokenbus.testing.TestRedis;
import io.vertx.core.Future;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * Not a check, a figure: appends per second through the event bus as workers send them (one chunk per append, many
 * jobs at once). Runs only with {@code -Dtokenbus.measure=true}, e.g.
 * {@code mvn -B -o -pl checkpoint-store -am test -Dtest=PipelineThroughputMeasure -Dtokenbus.measure=true
 * -Dsurefire.failIfNoSpecifiedTests=false}; add {@code -Dtokenbus.measure.cluster=true} for a 3-master Redis Cluster
 * (commands sent one by one per round trip) instead of one server (one pipelined batch per round trip).
 */
class PipelineThroughputMeasure {
  @Test
  void appendsPerSecond() {
    Assumptions.assumeTrue(Boolean.getBoolean("tokenbus.measure"));
    int jobs = 500;
    int rounds = 60;
    if (Boolean.getBoolean("tokenbus.measure.cluster")) {
      try (RedisClusterProcess cluster = RedisClusterProcess.start(3, java.nio.file.Path.of("target", "redis-cluster"));
           StoreFixture f = StoreFixture.start(CheckpointConfig.defaults("redis://unused")
             .withRedis(CheckpointConfig.RedisMode.CLUSTER, cluster.urls(), null), null)) {
        measure(f, jobs, rounds);
      } catch (java.io.IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
      return;
    }
    try (TestRedis redis = TestRedis.start(); StoreFixture f = StoreFixture.start(redis.url(), c -> c)) {
      measure(f, jobs, rounds);
    }
  }

  private static void measure(StoreFixture f, int jobs, int rounds) {
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < jobs; i++) {
      ids.add(f.open());
    }
    for (int pass = 0; pass < 2; pass++) { // the first pass warms up
      long t0 = System.nanoTime();
      for (int r = 1; r <= rounds; r++) {
        long seq = (long) pass * rounds + r;
        List<Future<?>> all = new ArrayList<>(jobs);
        for (String id : ids) {
          all.add(f.appendAsync(id, chunks(id, seq, seq), null));
        }
        Future.all(all).await();
      }
      double s = (System.nanoTime() - t0) / 1e9;
      DistributionSummary batches = f.node.registry().find("tokenbus_checkpoint_batch_commands").summary();
      System.out.printf("pass %d: %d appends in %.2f s = %.0f appends/s; commands per round trip: mean %.1f, max %.0f%n",
        pass, jobs * rounds, s, jobs * rounds / s, batches.mean(), batches.max());
    }
  }
}
