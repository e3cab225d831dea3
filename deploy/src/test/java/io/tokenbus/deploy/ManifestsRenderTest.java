package io.tokenbus.deploy;

import static io.tokenbus.deploy.K8sObjects.id;
import static io.tokenbus.deploy.K8sObjects.objects;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fabric8.kubernetes.api.model.HasMetadata;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * deploy/k8s renders with {@code kubectl kustomize} to the objects its files list, each valid against the Kubernetes
 * API model ({@link KubeSchema}), named and in the tokenbus namespace.
 */
class ManifestsRenderTest {
  @BeforeAll
  static void load() {
    objects();
  }

  @Test
  void rendersWithKubectlKustomize() {
    if (Manifests.CI) {
      assertNotNull(Manifests.rendered(), "kubectl is required when CI=true: " + Manifests.renderProblem());
    }
    Assumptions.assumeTrue(Manifests.rendered() != null, "kubectl not on the PATH: render skipped");
    // Every file the kustomization lists is rendered: same objects, by kind and name.
    List<String> fromFiles = new ArrayList<>();
    for (var f : Manifests.resourceFiles()) {
      KubeSchema.parse(Manifests.read(f)).forEach(o -> fromFiles.add(id(o)));
    }
    assertEquals(new TreeSet<>(fromFiles), new TreeSet<>(objects().stream().map(K8sObjects::id).toList()));
    assertEquals(fromFiles.size(), objects().size(), "an object is rendered twice or dropped");
  }

  @Test
  void everyObjectIsNamedAndInTheTokenbusNamespace() {
    assertFalse(objects().isEmpty());
    for (HasMetadata o : objects()) {
      assertNotNull(o.getMetadata().getName(), o.getKind() + " without a name");
      if (!(o instanceof io.fabric8.kubernetes.api.model.Namespace)) {
        assertEquals("tokenbus", o.getMetadata().getNamespace(), id(o));
      }
    }
  }

  @Test
  void aMisspelledFieldFailsValidation() {
    String yaml = Manifests.rendered() != null ? Manifests.rendered() : Manifests.read(Manifests.K8S.resolve("gateway.yaml"));
    assertRefused(yaml.replace("readinessProbe:", "readinesProbe:"), "readinesProbe");
    assertRefused(yaml.replace("terminationGracePeriodSeconds:", "terminationGracePeriodSecond:"), "terminationGracePeriodSecond");
    assertRefused(yaml.replace("matchLabels:", "matchLabel:"), "matchLabel");
    // Scalars of the wrong type are refused like the API server refuses them.
    assertRefused("apiVersion: v1\nkind: ConfigMap\nmetadata: { name: x }\ndata: { TOKENBUS_CLUSTER: true }\n", "ConfigMap x");
    assertRefused("apiVersion: v1\nkind: Service\nmetadata: { name: x }\nspec: { ports: [ { port: \"80\" } ] }\n", "Service x");
    assertRefused("apiVersion: v1\nkind: Pod\nmetadata: { name: x }\n", "not a kind");
    assertRefused("apiVersion: v1\nkind: ConfigMap\nmetadata: { name: x }\ndata: { A: \"1\" }\ndata: { B: \"2\" }\n", "data");
  }

  private static void assertRefused(String yaml, String mention) {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> KubeSchema.parse(yaml));
    assertTrue(e.getMessage().contains(mention), e.getMessage());
  }
}
