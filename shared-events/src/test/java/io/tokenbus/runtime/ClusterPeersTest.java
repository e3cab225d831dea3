package io.tokenbus.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.vertx.core.Promise;
import io.vertx.ext.healthchecks.Status;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/** A clustered node alone in its cluster is not ready; once another member is there, it is. */
class ClusterPeersTest {
  private static Status check(ClusterPeers peers) {
    Promise<Status> p = Promise.promise();
    peers.readiness(p);
    return p.future().await();
  }

  @Test
  void readyOnlyWithAnotherMember() {
    NodeOptions o = NodeOptions.clusteredLoopback().withClusterName("tokenbus-peers-" + UUID.randomUUID());
    Node first = Nodes.start(o).await();
    try {
      ClusterPeers peers = new ClusterPeers(first);
      Status alone = check(peers);
      assertEquals(false, alone.isOk());
      assertEquals(1, alone.getData().getInteger("members"));
      Node second = Nodes.start(o).await();
      try {
        Status together = check(peers);
        assertEquals(true, together.isOk(), String.valueOf(together.getData()));
        assertEquals(2, together.getData().getInteger("members"));
      } finally {
        second.close().await();
      }
    } finally {
      first.close().await();
    }
  }

  @Test
  void aLocalNodeHasNoClusterToCheck() {
    Node local = Node.local();
    try {
      assertThrows(IllegalArgumentException.class, () -> new ClusterPeers(local));
    } finally {
      local.close().await();
    }
  }
}
