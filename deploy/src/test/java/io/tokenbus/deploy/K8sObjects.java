package io.tokenbus.deploy;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerPort;
import io.fabric8.kubernetes.api.model.EnvFromSource;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.LabelSelector;
import io.fabric8.kubernetes.api.model.LabelSelectorRequirement;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.networking.v1.Ingress;
import io.fabric8.kubernetes.api.model.networking.v1.IngressBackend;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyIngressRule;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyPort;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * The objects deploy/k8s renders to (see {@link Manifests#objects()}), loaded once for every Manifests*Test class, and
 * the lookups those tests share: by kind and role, a container's environment, ports by number or name, and label
 * selector semantics. The lookups fail with the object's kind and name when a reference is dangling.
 */
final class K8sObjects {
  static final String PART_OF = "app.kubernetes.io/part-of";

  private static List<HasMetadata> objects;

  private K8sObjects() {}

  /** Every rendered object; the first call renders (or reads the listed files) and says so once without kubectl. */
  static synchronized List<HasMetadata> objects() {
    if (objects == null) {
      if (Manifests.rendered() == null && !Manifests.CI) {
        // The one line a developer without kubectl sees; the tests check the listed files as they are.
        System.out.println("[deploy] kubectl not on the PATH: `kubectl kustomize deploy/k8s` NOT rendered (required under CI=true);"
          + " checking the files kustomization.yaml lists instead");
      }
      objects = Manifests.objects();
    }
    return objects;
  }

  static String id(HasMetadata o) {
    return o.getKind() + "/" + o.getMetadata().getName();
  }

  static <T extends HasMetadata> List<T> all(Class<T> type) {
    return objects().stream().filter(type::isInstance).map(type::cast).toList();
  }

  static Deployment deployment(String role) {
    return all(Deployment.class).stream()
      .filter(d -> role.equals(role(d.getSpec().getTemplate().getSpec().getContainers().get(0))))
      .findFirst().orElseThrow(() -> new AssertionError("no Deployment runs --role " + role));
  }

  static Map<String, String> podLabels(Deployment d) {
    return Optional.ofNullable(d.getSpec().getTemplate().getMetadata().getLabels()).orElse(Map.of());
  }

  /** The launcher role of a container: the value after --role. */
  static String role(Container c) {
    List<String> args = Optional.ofNullable(c.getArgs()).orElse(List.of());
    int i = args.indexOf("--role");
    assertTrue(i >= 0 && i + 1 < args.size(), c.getName() + ": args must name one --role");
    String role = args.get(i + 1);
    assertTrue(List.of("gateway", "worker", "checkpoint").contains(role), c.getName() + ": one role per pod, got " + role);
    return role;
  }

  static int hazelcastPort() {
    return Integer.parseInt(Manifests.fromSource("shared-events/src/main/java/io/tokenbus/runtime/NodeOptions.java",
      "\"TOKENBUS_HAZELCAST_PORT\", (\\d+)\\)"));
  }

  /** The environment a container gets: envFrom ConfigMaps/Secrets (which must exist) then env; values from fields as "". */
  static Map<String, String> envOf(Deployment d, Container c) {
    Map<String, String> env = new LinkedHashMap<>();
    for (EnvFromSource from : Optional.ofNullable(c.getEnvFrom()).orElse(List.of())) {
      if (from.getConfigMapRef() != null) {
        env.putAll(Optional.ofNullable(configMap(from.getConfigMapRef().getName(), id(d)).getData()).orElse(Map.of()));
      }
      if (from.getSecretRef() != null) {
        Secret s = secret(from.getSecretRef().getName(), id(d));
        Optional.ofNullable(s.getData()).orElse(Map.of()).keySet().forEach(k -> env.put(k, ""));
        env.putAll(Optional.ofNullable(s.getStringData()).orElse(Map.of()));
      }
    }
    for (EnvVar e : Optional.ofNullable(c.getEnv()).orElse(List.of())) {
      if (e.getValueFrom() != null && e.getValueFrom().getConfigMapKeyRef() != null) {
        var ref = e.getValueFrom().getConfigMapKeyRef();
        assertTrue(configMap(ref.getName(), id(d)).getData().containsKey(ref.getKey()), id(d) + ": " + e.getName());
      }
      if (e.getValueFrom() != null && e.getValueFrom().getSecretKeyRef() != null) {
        var ref = e.getValueFrom().getSecretKeyRef();
        Secret s = secret(ref.getName(), id(d));
        assertTrue(Optional.ofNullable(s.getData()).orElse(Map.of()).containsKey(ref.getKey())
          || Optional.ofNullable(s.getStringData()).orElse(Map.of()).containsKey(ref.getKey()), id(d) + ": " + e.getName());
      }
      env.put(e.getName(), e.getValue() != null ? e.getValue() : "");
    }
    return env;
  }

  static ConfigMap configMap(String name, String user) {
    return all(ConfigMap.class).stream().filter(m -> m.getMetadata().getName().equals(name)).findFirst()
      .orElseThrow(() -> new AssertionError(user + " refers to ConfigMap " + name + ", which is not rendered"));
  }

  static Secret secret(String name, String user) {
    return all(Secret.class).stream().filter(m -> m.getMetadata().getName().equals(name)).findFirst()
      .orElseThrow(() -> new AssertionError(user + " refers to Secret " + name + ", which is not rendered"));
  }

  static Service service(Ingress i, IngressBackend b) {
    Service s = all(Service.class).stream().filter(x -> x.getMetadata().getName().equals(b.getService().getName()))
      .findFirst().orElseThrow(() -> new AssertionError(id(i) + " routes to missing Service " + b.getService().getName()));
    var port = b.getService().getPort();
    assertTrue(s.getSpec().getPorts().stream().anyMatch(p -> port.getName() != null ? port.getName().equals(p.getName())
      : Objects.equals(port.getNumber(), p.getPort())), id(i) + ": " + id(s) + " has no port " + port);
    return s;
  }

  /** The number a probe/Service/policy port means on this container; fails when it names no declared port. */
  static int containerPort(Container c, IntOrString port, String where) {
    List<ContainerPort> declared = Optional.ofNullable(c.getPorts()).orElse(List.of());
    if (port.getIntVal() != null) {
      assertTrue(declared.stream().anyMatch(p -> p.getContainerPort().equals(port.getIntVal())),
        where + ": port " + port.getIntVal() + " is not declared by the container");
      return port.getIntVal();
    }
    return declared.stream().filter(p -> port.getStrVal().equals(p.getName())).findFirst()
      .orElseThrow(() -> new AssertionError(where + ": the container declares no port named " + port.getStrVal()))
      .getContainerPort();
  }

  static boolean admitsPort(NetworkPolicyIngressRule rule, Container c, int port) {
    if (rule.getPorts() == null || rule.getPorts().isEmpty()) {
      return true;
    }
    for (NetworkPolicyPort p : rule.getPorts()) {
      if (p.getProtocol() != null && !"TCP".equals(p.getProtocol())) {
        continue;
      }
      if (p.getPort() == null) {
        return true;
      }
      if (p.getPort().getIntVal() != null) {
        int from = p.getPort().getIntVal();
        int to = p.getEndPort() != null ? p.getEndPort() : from;
        if (from <= port && port <= to) {
          return true;
        }
      } else if (Optional.ofNullable(c.getPorts()).orElse(List.of()).stream()
        .anyMatch(cp -> p.getPort().getStrVal().equals(cp.getName()) && cp.getContainerPort() == port)) {
        return true;
      }
    }
    return false;
  }

  static boolean selects(Map<String, String> selector, Map<String, String> labels) {
    return selector != null && !selector.isEmpty() && labels.entrySet().containsAll(selector.entrySet());
  }

  /** Label selector semantics: matchLabels and matchExpressions all hold; an empty selector selects everything. */
  static boolean selects(LabelSelector sel, Map<String, String> labels) {
    if (sel == null) {
      return false;
    }
    if (sel.getMatchLabels() != null && !labels.entrySet().containsAll(sel.getMatchLabels().entrySet())) {
      return false;
    }
    for (LabelSelectorRequirement r : Optional.ofNullable(sel.getMatchExpressions()).orElse(List.of())) {
      String v = labels.get(r.getKey());
      boolean ok = switch (r.getOperator()) {
        case "In" -> v != null && r.getValues().contains(v);
        case "NotIn" -> v == null || !r.getValues().contains(v);
        case "Exists" -> v != null;
        case "DoesNotExist" -> v == null;
        default -> throw new AssertionError("unknown selector operator " + r.getOperator());
      };
      if (!ok) {
        return false;
      }
    }
    return true;
  }
}
