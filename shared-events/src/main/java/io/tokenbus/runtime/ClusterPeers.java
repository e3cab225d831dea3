package io.tokenbus.runtime;

import io.vertx.core.Promise;
import io.vertx.core.json.JsonObject;
import io.vertx.core.spi.cluster.ClusterManager;
import io.vertx.ext.healthchecks.Status;

/**
 * Readiness of a clustered node whose work needs services on other nodes (a gateway without a worker and a store of
 * its own): ready only while it sees another cluster member. A node that was frozen (a long GC pause, SIGSTOP, a
 * stalled VM) is evicted and thaws alone, in a cluster of its own, until Hazelcast's split-brain merge (every 5 s)
 * brings it back; meanwhile it knows only the registrations it happened to hold: the store's answered while no
 * worker's did, so it said ready yet answered submissions 503 {@code no_worker} for 6.5 s (FrozenGatewayTest).
 */
public final class ClusterPeers implements Readiness {
  private final ClusterManager manager;

  public ClusterPeers(Node node) {
    this.manager = node.clusterManager();
    if (manager == null) {
      throw new IllegalArgumentException("ClusterPeers needs a clustered node");
    }
  }

  @Override
  public String readinessName() {
    return "cluster";
  }

  @Override
  public void readiness(Promise<Status> status) {
    int members = manager.getNodes().size(); // Hazelcast's member list, held locally
    status.complete(members > 1 ? Status.OK(new JsonObject().put("members", members))
      : Status.KO(new JsonObject().put("reason", "alone in the cluster (evicted, not merged back yet)").put("members", members)));
  }
}
