package io.tokenbus.deploy;

import static io.tokenbus.deploy.K8sObjects.PART_OF;
import static io.tokenbus.deploy.K8sObjects.admitsPort;
import static io.tokenbus.deploy.K8sObjects.all;
import static io.tokenbus.deploy.K8sObjects.containerPort;
import static io.tokenbus.deploy.K8sObjects.deployment;
import static io.tokenbus.deploy.K8sObjects.hazelcastPort;
import static io.tokenbus.deploy.K8sObjects.id;
import static io.tokenbus.deploy.K8sObjects.objects;
import static io.tokenbus.deploy.K8sObjects.podLabels;
import static io.tokenbus.deploy.K8sObjects.role;
import static io.tokenbus.deploy.K8sObjects.selects;
import static io.tokenbus.deploy.K8sObjects.service;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServicePort;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.networking.v1.Ingress;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyIngressRule;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyPeer;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The network in deploy/k8s: Services select pods and target declared ports, the Hazelcast port is closed to anything
 * but tokenbus pods (the gateway's HTTP port stays open to clients), and the SockJS xhr fallbacks get session affinity.
 */
class ManifestsNetworkTest {
  @BeforeAll
  static void load() {
    objects();
  }

  @Test
  void servicesSelectPodsAndTargetDeclaredPorts() {
    for (Service s : all(Service.class)) {
      List<Deployment> backends = all(Deployment.class).stream()
        .filter(d -> s.getSpec().getSelector() != null && selects(s.getSpec().getSelector(), podLabels(d))).toList();
      assertFalse(backends.isEmpty(), id(s) + " selects no pods");
      for (ServicePort p : s.getSpec().getPorts()) {
        IntOrString target = p.getTargetPort() != null ? p.getTargetPort() : new IntOrString(p.getPort());
        for (Deployment d : backends) {
          Container c = d.getSpec().getTemplate().getSpec().getContainers().get(0);
          containerPort(c, target, id(s) + " port " + p.getName() + " on " + id(d));
        }
      }
    }
    for (Ingress i : all(Ingress.class)) {
      i.getSpec().getRules().forEach(r -> r.getHttp().getPaths().forEach(p -> service(i, p.getBackend())));
    }
  }

  @Test
  void onlyTokenbusPodsReachTheHazelcastPort() {
    int hazelcastPort = hazelcastPort();
    for (Deployment d : all(Deployment.class)) {
      Map<String, String> labels = podLabels(d);
      Container c = d.getSpec().getTemplate().getSpec().getContainers().get(0);
      List<NetworkPolicy> isolating = all(NetworkPolicy.class).stream()
        .filter(np -> Objects.equals(np.getMetadata().getNamespace(), d.getMetadata().getNamespace()))
        .filter(np -> selects(np.getSpec().getPodSelector(), labels))
        .filter(np -> np.getSpec().getPolicyTypes() == null ? np.getSpec().getIngress() != null
          : np.getSpec().getPolicyTypes().contains("Ingress"))
        .toList();
      assertFalse(isolating.isEmpty(), id(d) + ": no NetworkPolicy isolates its pods, so anyone reaches " + hazelcastPort);
      for (NetworkPolicy np : isolating) {
        for (NetworkPolicyIngressRule rule : Optional.ofNullable(np.getSpec().getIngress()).orElse(List.of())) {
          if (!admitsPort(rule, c, hazelcastPort)) {
            continue;
          }
          String where = id(np) + " on " + id(d);
          assertTrue(rule.getFrom() != null && !rule.getFrom().isEmpty(), where + ": opens " + hazelcastPort + " to everyone");
          for (NetworkPolicyPeer peer : rule.getFrom()) {
            assertTrue(peer.getIpBlock() == null && peer.getNamespaceSelector() == null && peer.getPodSelector() != null,
              where + ": " + hazelcastPort + " must be open to pods of this namespace only");
            Map<String, String> required = Optional.ofNullable(peer.getPodSelector().getMatchLabels()).orElse(Map.of());
            assertEquals("tokenbus", required.get(PART_OF), where + ": peers must be selected by " + PART_OF + "=tokenbus");
          }
        }
      }
      if ("gateway".equals(role(c))) {
        int http = containerPort(c, new IntOrString("http"), id(d));
        assertTrue(isolating.stream().flatMap(np -> Optional.ofNullable(np.getSpec().getIngress()).orElse(List.of()).stream())
            .anyMatch(r -> (r.getFrom() == null || r.getFrom().isEmpty()) && admitsPort(r, c, http)),
          id(d) + ": the NetworkPolicies close the gateway's HTTP port " + http + " to clients");
      }
    }
  }

  @Test
  void sockJsXhrFallbacksGetSessionAffinity() {
    Deployment gateway = deployment("gateway");
    List<Service> gatewayServices = all(Service.class).stream()
      .filter(s -> s.getSpec().getClusterIP() == null || !"None".equals(s.getSpec().getClusterIP()))
      .filter(s -> selects(s.getSpec().getSelector(), podLabels(gateway))).toList();
    assertFalse(gatewayServices.isEmpty(), "no Service in front of the gateways");
    for (Service s : gatewayServices) {
      List<Ingress> routes = all(Ingress.class).stream().filter(i -> i.getSpec().getRules().stream()
        .flatMap(r -> r.getHttp().getPaths().stream())
        .anyMatch(p -> p.getBackend().getService().getName().equals(s.getMetadata().getName()))).toList();
      if ("ClientIP".equals(s.getSpec().getSessionAffinity())) {
        continue;
      }
      assertFalse(routes.isEmpty(), id(s) + ": neither ClientIP affinity nor an Ingress with cookie affinity");
      for (Ingress i : routes) {
        Map<String, String> a = Optional.ofNullable(i.getMetadata().getAnnotations()).orElse(Map.of());
        assertEquals("cookie", a.get("nginx.ingress.kubernetes.io/affinity"), id(i) + ": SockJS xhr sessions need affinity");
        assertEquals("persistent", a.get("nginx.ingress.kubernetes.io/affinity-mode"),
          id(i) + ": 'balanced' moves live sessions when gateways scale");
        assertEquals("off", a.get("nginx.ingress.kubernetes.io/proxy-buffering"), id(i) + ": SSE must not be buffered");
      }
    }
    String readme = Manifests.read(Manifests.MODULE.resolve("README.md"));
    assertTrue(readme.contains("Session affinity"), "deploy/README.md must explain session affinity");
  }
}
