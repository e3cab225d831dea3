package io.tokenbus.deploy;

import static io.tokenbus.deploy.K8sObjects.all;
import static io.tokenbus.deploy.K8sObjects.envOf;
import static io.tokenbus.deploy.K8sObjects.hazelcastPort;
import static io.tokenbus.deploy.K8sObjects.id;
import static io.tokenbus.deploy.K8sObjects.objects;
import static io.tokenbus.deploy.K8sObjects.podLabels;
import static io.tokenbus.deploy.K8sObjects.selects;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The environment deploy/k8s gives each container against the code it deploys: every env var is one a main source
 * reads, every ConfigMap and Secret it refers to exists, and Hazelcast discovery names a headless Service over every
 * member.
 */
class ManifestsConfigTest {
  @BeforeAll
  static void load() {
    objects();
  }

  @Test
  void everyEnvVarIsOneTheCodeReads() {
    String sources = Manifests.mainSourceText();
    Map<String, String> setBy = new LinkedHashMap<>();
    for (Deployment d : all(Deployment.class)) {
      for (Container c : d.getSpec().getTemplate().getSpec().getContainers()) {
        envOf(d, c).keySet().forEach(n -> setBy.putIfAbsent(n, id(d)));
      }
    }
    assertTrue(setBy.containsKey("TOKENBUS_CLUSTER_HOST"), "the pod IP must be passed as TOKENBUS_CLUSTER_HOST");
    List<String> unread = setBy.entrySet().stream()
      .filter(e -> !sources.contains("\"" + e.getKey() + "\""))
      .map(e -> e.getKey() + " (" + e.getValue() + ")").toList();
    assertTrue(unread.isEmpty(), "env vars the manifests set but no main source reads: " + unread);
  }

  @Test
  void referencedConfigMapsAndSecretsExist() {
    for (Deployment d : all(Deployment.class)) {
      for (Container c : d.getSpec().getTemplate().getSpec().getContainers()) {
        envOf(d, c); // throws on a missing ConfigMap/Secret or key
      }
    }
  }

  @Test
  void hazelcastDiscoveryNamesAHeadlessServiceOverEveryMember() {
    int hazelcastPort = hazelcastPort();
    for (Deployment d : all(Deployment.class)) {
      Container c = d.getSpec().getTemplate().getSpec().getContainers().get(0);
      Map<String, String> env = envOf(d, c);
      String dns = env.get("TOKENBUS_K8S_SERVICE_DNS");
      assertNotNull(dns, id(d) + " has no TOKENBUS_K8S_SERVICE_DNS: it would look for members on 127.0.0.1");
      Service svc = all(Service.class).stream()
        .filter(s -> dns.startsWith(s.getMetadata().getName() + "." + s.getMetadata().getNamespace() + ".svc"))
        .findFirst().orElseThrow(() -> new AssertionError(id(d) + ": no Service is named by " + dns));
      assertEquals("None", svc.getSpec().getClusterIP(), id(svc) + " must be headless");
      assertEquals(Boolean.TRUE, svc.getSpec().getPublishNotReadyAddresses(),
        id(svc) + ": members must find each other before they are ready");
      assertTrue(selects(svc.getSpec().getSelector(), podLabels(d)), id(svc) + " does not select " + id(d));
      assertTrue(svc.getSpec().getPorts().stream().anyMatch(p -> p.getPort() == hazelcastPort), id(svc) + " port");
      assertEquals("true", env.getOrDefault("TOKENBUS_CLUSTER", "true"));
      assertTrue(c.getArgs().contains("--cluster"), id(d) + " must start with --cluster");
    }
  }
}
