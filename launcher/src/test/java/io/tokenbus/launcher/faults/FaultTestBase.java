package io.tokenbus.launcher.faults;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;

/**
 * What every multi-process fault test shares: one {@link FaultCluster} per test class (started by the subclass's
 * {@code @BeforeAll}, killed after its last test) and the clients of the current test, closed after it.
 */
abstract class FaultTestBase {
  /** Set by the subclass's {@code @BeforeAll}; test classes run one after another. */
  protected static FaultCluster cluster;
  protected final List<JobFollower> followers = new ArrayList<>();

  @AfterAll
  static void stopCluster() {
    if (cluster != null) {
      cluster.close();
      cluster = null;
    }
  }

  @AfterEach
  void closeFollowers() throws Exception {
    beforeClosingFollowers();
    Workload.closeAll(followers);
  }

  /** What a test class must undo before its clients close (e.g. resume a paused process). */
  protected void beforeClosingFollowers() throws Exception {}

  /** The clients of this test from now on: {@code fs}, after those it had (all are closed after the test). */
  protected List<JobFollower> follow(List<JobFollower> fs) {
    followers.addAll(fs);
    return fs;
  }
}
