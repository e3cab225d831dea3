package io.tokenbus.deploy;

import static io.tokenbus.deploy.K8sObjects.admitsPort;
import static io.tokenbus.deploy.K8sObjects.all;
import static io.tokenbus.deploy.K8sObjects.containerPort;
import static io.tokenbus.deploy.K8sObjects.envOf;
import static io.tokenbus.deploy.K8sObjects.id;
import static io.tokenbus.deploy.K8sObjects.objects;
import static io.tokenbus.deploy.K8sObjects.podLabels;
import static io.tokenbus.deploy.K8sObjects.role;
import static io.tokenbus.deploy.K8sObjects.selects;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.Probe;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServicePort;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyIngressRule;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyPeer;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Probes and Prometheus scrapes in deploy/k8s hit the management listener's routes on its port (read from the code),
 * and that port is neither behind a Service nor open to the outside.
 */
class ManifestsProbesTest {
  @BeforeAll
  static void load() {
    objects();
  }

  static final String MANAGEMENT_SERVER = "shared-events/src/main/java/io/tokenbus/runtime/ManagementServer.java";
  static final String MANAGEMENT_CONFIG = "shared-events/src/main/java/io/tokenbus/runtime/ManagementConfig.java";

  /** The management port a container's process listens on: TOKENBUS_MANAGEMENT_PORT or the code's default. */
  static int managementPort(Map<String, String> env) {
    int defaultPort = Integer.parseInt(Manifests.fromSource(MANAGEMENT_CONFIG, "DEFAULT_PORT = (\\d+);"));
    return Integer.parseInt(env.getOrDefault("TOKENBUS_MANAGEMENT_PORT", String.valueOf(defaultPort)));
  }

  static boolean managementRoute(String path) {
    return Pattern.compile("router\\.get\\(\"" + Pattern.quote(path) + "\"\\)").matcher(Manifests.read(Manifests.REPO.resolve(MANAGEMENT_SERVER))).find();
  }

  @Test
  void probesPointAtEndpointsThatExist() {
    String defaultHost = Manifests.fromSource(MANAGEMENT_CONFIG, "new ManagementConfig\\(\"([^\"]+)\", DEFAULT_PORT,");
    for (Deployment d : all(Deployment.class)) {
      for (Container c : d.getSpec().getTemplate().getSpec().getContainers()) {
        String where = id(d) + " container " + c.getName();
        role(c);
        Map<String, String> env = envOf(d, c);
        assertNotNull(c.getReadinessProbe(), where + ": no readinessProbe");
        assertNotNull(c.getLivenessProbe(), where + ": no livenessProbe");
        // Every role serves its own health now: readiness must ask the service, not whether a port is open.
        assertNotNull(c.getReadinessProbe().getHttpGet(), where + ": readiness must be GET /health/ready");
        assertEquals("/health/ready", c.getReadinessProbe().getHttpGet().getPath(), where);
        assertNotNull(c.getLivenessProbe().getHttpGet(), where + ": liveness must be GET /health/live");
        assertEquals("/health/live", c.getLivenessProbe().getHttpGet().getPath(), where);
        for (Probe p : new Probe[] {c.getStartupProbe(), c.getReadinessProbe(), c.getLivenessProbe()}) {
          if (p == null) {
            continue;
          }
          assertTrue(p.getExec() == null && p.getGrpc() == null && p.getTcpSocket() == null,
            where + ": only httpGet probes on the management port check what the services report");
          assertNotNull(p.getHttpGet(), where + ": a probe without an action");
          String path = p.getHttpGet().getPath();
          assertTrue(managementRoute(path), where + ": the management listener has no GET route " + path);
          assertEquals(managementPort(env), containerPort(c, p.getHttpGet().getPort(), where),
            where + ": probe port is not the management port (TOKENBUS_MANAGEMENT_PORT)");
          assertEquals("0.0.0.0", env.getOrDefault("TOKENBUS_MANAGEMENT_HOST", defaultHost),
            where + ": the management listener must listen on every interface for the kubelet to reach it");
        }
      }
    }
  }

  @Test
  void prometheusScrapesTheManagementPortOfEveryPod() {
    for (Deployment d : all(Deployment.class)) {
      Container c = d.getSpec().getTemplate().getSpec().getContainers().get(0);
      Map<String, String> a = Optional.ofNullable(d.getSpec().getTemplate().getMetadata().getAnnotations()).orElse(Map.of());
      assertEquals("true", a.get("prometheus.io/scrape"), id(d) + ": pods must be scraped");
      String port = a.get("prometheus.io/port");
      assertNotNull(port, id(d) + ": prometheus.io/port");
      int management = managementPort(envOf(d, c));
      assertEquals(management, containerPort(c, new IntOrString(Integer.parseInt(port)), id(d) + " prometheus.io/port"),
        id(d) + ": Prometheus must scrape the management port");
      String path = a.getOrDefault("prometheus.io/path", "/metrics");
      assertTrue(managementRoute(path), id(d) + ": the management listener has no GET route " + path);
    }
  }

  @Test
  void theManagementPortIsNeitherRoutedNorOpenToTheOutside() {
    for (Deployment d : all(Deployment.class)) {
      Container c = d.getSpec().getTemplate().getSpec().getContainers().get(0);
      int management = managementPort(envOf(d, c));
      for (Service s : all(Service.class)) {
        if (!selects(s.getSpec().getSelector(), podLabels(d)) || "None".equals(s.getSpec().getClusterIP())) {
          continue;
        }
        for (ServicePort p : s.getSpec().getPorts()) {
          IntOrString target = p.getTargetPort() != null ? p.getTargetPort() : new IntOrString(p.getPort());
          assertTrue(containerPort(c, target, id(s)) != management, id(s) + " exposes the management port of " + id(d));
        }
      }
      for (NetworkPolicy np : all(NetworkPolicy.class)) {
        if (!selects(np.getSpec().getPodSelector(), podLabels(d))) {
          continue;
        }
        for (NetworkPolicyIngressRule rule : Optional.ofNullable(np.getSpec().getIngress()).orElse(List.of())) {
          if (admitsPort(rule, c, management)) {
            assertTrue(rule.getFrom() != null && !rule.getFrom().isEmpty(), id(np) + " opens the management port of "
              + id(d) + " to everyone");
            for (NetworkPolicyPeer peer : rule.getFrom()) {
              assertNull(peer.getIpBlock(), id(np) + ": the management port is for pods of the cluster (Prometheus) only");
            }
          }
        }
      }
    }
  }
}
