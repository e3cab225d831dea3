package io.tokenbus.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.tokenbus.events.Addresses;
import io.tokenbus.events.JobIds;
import io.tokenbus.events.JobRequest;
import io.tokenbus.events.internal.JobAssignment;
import io.tokenbus.events.internal.WatchedJobs;
import io.tokenbus.runtime.Node;
import java.security.SecureRandom;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * An interactive job that no gateway lists as followed runs as background on its worker (issue 10, section 3: "a job
 * whose stream nobody follows may be treated as background"), and as interactive again once a gateway lists it.
 */
class UnwatchedJobsTest {
  private static LocalWorkers.StoreAndWorker system;
  private static Node node;

  @BeforeAll
  static void start() {
    system = LocalWorkers.withStore(WorkerConfig.defaults().withLocalGenerator(20, 600).withDrainMs(0));
    node = system.node();
  }

  @AfterAll
  static void stop() {
    system.close();
  }

  @Test
  void aJobNobodyFollowsRunsAsBackgroundUntilSomebodyDoes() throws Exception {
    String watched = run();
    String unwatched = run();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (unwatched() != 1 && System.nanoTime() < deadline) { // past the grace a new job gets
      list(watched);
      Thread.sleep(200); // one list each 200 ms, as a gateway sends one each second
    }
    assertEquals(1.0, unwatched(), "the job no gateway lists runs as background");
    list(watched, unwatched);
    awaitUnwatched(0, "a gateway lists it again");
  }

  private static String run() {
    String id = JobIds.newId(new SecureRandom());
    JobAssignment a = new JobAssignment(id, JobRequest.ask("a long answer"), System.currentTimeMillis());
    node.vertx().eventBus().request(Addresses.CHECKPOINT_OPEN, a).await();
    node.vertx().eventBus().request(Addresses.WORKER_RUN, a).await();
    return id;
  }

  private static void list(String... jobIds) {
    node.vertx().eventBus().publish(Addresses.JOBS_WATCHED, new WatchedJobs("test-gateway", 3000, Set.of(jobIds)));
  }

  private static double unwatched() {
    return node.registry().get("tokenbus_worker_jobs_unwatched").gauge().value();
  }

  private static void awaitUnwatched(double expected, String when) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    while (unwatched() != expected && System.nanoTime() < deadline) {
      Thread.sleep(20); // polling a gauge: no event says it changed
    }
    assertEquals(expected, unwatched(), when);
  }
}
