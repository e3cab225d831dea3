package io.tokenbus.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.tokenbus.events.Addresses;
import io.tokenbus.events.JobIds;
import io.tokenbus.events.JobRequest;
import io.tokenbus.events.internal.JobAssignment;
import io.tokenbus.events.internal.WatchedJobs;
import io.tokenbus.runtime.Node;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.RedisConnection;
import io.vertx.redis.client.Request;
import java.security.SecureRandom;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.DoubleSupplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A job paused as background (nobody followed it and the background share of the worker's outbox budget was full)
 * resumes as soon as a gateway lists it as followed, while the store still holds its earlier writes: what it holds
 * moves to the interactive share, which has room. Without that it would wait for the store to catch up.
 */
class FollowedAgainTest {
  private static final int BUDGET = 8;
  private static LocalWorkers.StoreAndWorker system;
  private static Node node;
  private static RedisConnection admin;

  @BeforeAll
  static void start() {
    // A fixed background share (half the budget: no adaptive target) and a per-job bound the test never reaches.
    system = LocalWorkers.withStore(WorkerConfig.fromEnv(Map.of(
      "TOKENBUS_MAX_BUFFERED_CHUNKS_PER_WORKER", String.valueOf(BUDGET), "TOKENBUS_MAX_BUFFERED_CHUNKS", "1000",
      "TOKENBUS_LOCAL_TOKENS_PER_SECOND", "200", "TOKENBUS_LOCAL_MAX_TOKENS", "100000",
      "TOKENBUS_BACKGROUND_TARGET_MS", "0", "TOKENBUS_DRAIN_SECONDS", "0", "TOKENBUS_PROBE_OLLAMA", "false")));
    node = system.node();
    admin = Redis.createClient(node.vertx(), system.redis().url()).connect().await();
  }

  @AfterAll
  static void stop() {
    admin.send(Request.cmd(Command.CLIENT).arg("UNPAUSE")).await();
    system.close();
  }

  @Test
  void aJobPausedAsBackgroundResumesWhenAGatewayListsIt() throws Exception {
    String id = JobIds.newId(new SecureRandom());
    JobAssignment a = new JobAssignment(id, JobRequest.ask("a long answer"), System.currentTimeMillis());
    node.vertx().eventBus().request(Addresses.CHECKPOINT_OPEN, a).await();
    node.vertx().eventBus().request(Addresses.WORKER_RUN, a).await();
    String decoy = JobIds.newId(new SecureRandom()); // a gateway lists some job, not this one
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (gauge("tokenbus_worker_jobs_unwatched").getAsDouble() != 1 && System.nanoTime() < deadline) {
      list(decoy);
      Thread.sleep(200); // one list each 200 ms, as a gateway sends one each second
    }
    assertEquals(1.0, gauge("tokenbus_worker_jobs_unwatched").getAsDouble(), "the unlisted job runs as background");

    // Redis holds every write for 1.8 s (less than the store's 2 s deadline): the job's chunks stay in the budget.
    admin.send(Request.cmd(Command.CLIENT).arg("PAUSE").arg(1800).arg("WRITE")).await();
    DoubleSupplier held = gauge("tokenbus_worker_buffered_chunks");
    await(held, BUDGET / 2.0, 1000, "the background share fills and the job pauses");
    Thread.sleep(150); // 30 tokens' worth at 200 tokens/s: a job not paused would have gone past the share
    assertEquals(BUDGET / 2.0, held.getAsDouble(), "paused at the background share");

    list(decoy, id);
    await(held, BUDGET, 1000, "followed again, it resumes before the store answers");
  }

  private static void list(String... jobIds) {
    node.vertx().eventBus().publish(Addresses.JOBS_WATCHED, new WatchedJobs("test-gateway", 3000, Set.of(jobIds)));
  }

  private static DoubleSupplier gauge(String name) {
    return () -> node.registry().get(name).gauge().value();
  }

  private static void await(DoubleSupplier value, double expected, long ms, String what) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(ms);
    while (value.getAsDouble() != expected && System.nanoTime() < deadline) {
      Thread.sleep(10); // polling a gauge: no event says it changed
    }
    assertEquals(expected, value.getAsDouble(), what);
  }
}
