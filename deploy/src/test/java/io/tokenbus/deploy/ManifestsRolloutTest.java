package io.tokenbus.deploy;

import static io.tokenbus.deploy.K8sObjects.PART_OF;
import static io.tokenbus.deploy.K8sObjects.all;
import static io.tokenbus.deploy.K8sObjects.deployment;
import static io.tokenbus.deploy.K8sObjects.envOf;
import static io.tokenbus.deploy.K8sObjects.id;
import static io.tokenbus.deploy.K8sObjects.objects;
import static io.tokenbus.deploy.K8sObjects.podLabels;
import static io.tokenbus.deploy.K8sObjects.role;
import static io.tokenbus.deploy.K8sObjects.selects;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Rollouts and voluntary disruptions in deploy/k8s are bounded: pods are labelled and selected, stop within a grace
 * period that covers preStop, drain and leaving the cluster, gateways sleep before their drain, and every role has a
 * PodDisruptionBudget that still lets a node drain.
 */
class ManifestsRolloutTest {
  /** The drain deadline each role reads, which its pods must set next to their grace period (issue 8 section 2). */
  static final Map<String, String> DRAIN_SETTING = Map.of("gateway", "TOKENBUS_GATEWAY_DRAIN_SECONDS", "worker", "TOKENBUS_DRAIN_SECONDS");
  /** After its drain a node leaves the Hazelcast cluster: no cluster operation waits longer (TOKENBUS_CLUSTER_FAILURE_SECONDS). */
  static final int CLUSTER_LEAVE_SECONDS = 10;

  @BeforeAll
  static void load() {
    objects();
  }

  @Test
  void podsAreLabelledSelectedAndStopWithinTheirGracePeriod() {
    for (Deployment d : all(Deployment.class)) {
      Map<String, String> labels = podLabels(d);
      assertEquals("tokenbus", labels.get(PART_OF), id(d) + " pods must carry " + PART_OF);
      assertTrue(selects(d.getSpec().getSelector(), labels), id(d) + ": selector does not match its pods");
      Long grace = d.getSpec().getTemplate().getSpec().getTerminationGracePeriodSeconds();
      assertNotNull(grace, id(d) + ": set terminationGracePeriodSeconds");
      Container c = d.getSpec().getTemplate().getSpec().getContainers().get(0);
      String setting = DRAIN_SETTING.get(role(c));
      if (setting == null) {
        continue;
      }
      // The grace period runs from the start of preStop: sleep, then the drain, then leaving the cluster.
      String drain = envOf(d, c).get(setting);
      assertNotNull(drain, id(d) + ": set " + setting + " next to terminationGracePeriodSeconds, they must agree");
      long needed = preStopSleepSeconds(c) + (long) Math.ceil(Double.parseDouble(drain)) + CLUSTER_LEAVE_SECONDS;
      assertTrue(grace >= needed, id(d) + ": terminationGracePeriodSeconds " + grace + " < preStop sleep + " + setting
        + " + " + CLUSTER_LEAVE_SECONDS + " s to leave the cluster = " + needed + ": the kubelet would kill it mid-drain");
    }
  }

  /**
   * A gateway sleeps in preStop before it gets SIGTERM: endpoints removal races pod termination, and a gateway that
   * closed its listener at once would see connections the Service or the Ingress still sent it refused. The sleep
   * covers at least one readiness period; it is not needed for workers and the store (no Service routes to them).
   */
  @Test
  void gatewaysSleepBeforeTheirDrainAndReportItAsNotReady() {
    Deployment d = deployment("gateway");
    Container c = d.getSpec().getTemplate().getSpec().getContainers().get(0);
    long sleep = preStopSleepSeconds(c);
    assertTrue(sleep >= 5, id(d) + ": preStop must sleep >= 5 s before SIGTERM (endpoints removal race), sleeps " + sleep);
    Integer period = c.getReadinessProbe().getPeriodSeconds();
    assertTrue(sleep >= (period == null ? 10 : period), id(d) + ": preStop sleep shorter than a readiness period");
    // Readiness turns down at drain start: the service registers a check the probe reads on the management port.
    String verticle = Manifests.read(Manifests.REPO.resolve("gateway/src/main/java/io/tokenbus/gateway/GatewayVerticle.java"));
    assertTrue(verticle.contains("drain.draining()") && verticle.contains("\"draining\""),
      "GatewayVerticle's readiness no longer reports a drain: update ManifestsRolloutTest with the code");
  }

  /** Seconds a container's preStop {@code sleep N} waits (0 without one). */
  static long preStopSleepSeconds(Container c) {
    if (c.getLifecycle() == null || c.getLifecycle().getPreStop() == null) {
      return 0;
    }
    var pre = c.getLifecycle().getPreStop();
    if (pre.getSleep() != null) {
      return pre.getSleep().getSeconds();
    }
    List<String> cmd = pre.getExec() != null ? pre.getExec().getCommand() : List.of();
    assertTrue(cmd.size() == 2 && "sleep".equals(cmd.get(0)), c.getName() + ": preStop other than a sleep: " + cmd);
    return Long.parseLong(cmd.get(1));
  }

  @Test
  void everyRoleHasADisruptionBudgetThatAllowsDrains() {
    List<PodDisruptionBudget> pdbs = all(PodDisruptionBudget.class);
    for (Deployment d : all(Deployment.class)) {
      List<PodDisruptionBudget> mine = pdbs.stream()
        .filter(b -> selects(b.getSpec().getSelector(), podLabels(d))).toList();
      // Every role: a voluntary disruption (node drain, cluster upgrade) takes one pod at a time, each with its drain.
      assertEquals(1, mine.size(), id(d) + ": needs exactly one PodDisruptionBudget");
      int replicas = Optional.ofNullable(d.getSpec().getReplicas()).orElse(1);
      for (PodDisruptionBudget b : mine) {
        IntOrString max = b.getSpec().getMaxUnavailable();
        IntOrString min = b.getSpec().getMinAvailable();
        assertTrue((max == null) != (min == null), id(b) + ": set one of maxUnavailable, minAvailable");
        boolean allowsOne = max != null ? (max.getIntVal() != null ? max.getIntVal() >= 1 : !"0%".equals(max.getStrVal()))
          : min.getIntVal() != null && min.getIntVal() < replicas;
        assertTrue(allowsOne, id(b) + " would block every node drain");
        assertTrue(replicas >= 2 || max != null, id(d) + ": one replica with minAvailable blocks drains");
      }
    }
  }
}
