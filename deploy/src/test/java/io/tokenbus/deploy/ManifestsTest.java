package io.tokenbus.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
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
import io.fabric8.kubernetes.api.model.Probe;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServicePort;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.networking.v1.Ingress;
import io.fabric8.kubernetes.api.model.networking.v1.IngressBackend;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyIngressRule;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyPeer;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyPort;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeSet;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * deploy/k8s, rendered with {@code kubectl kustomize} and checked against the Kubernetes API model and against the
 * code it deploys: probes hit endpoints that exist, every env var is one the code reads, the Hazelcast port is closed
 * to anything but tokenbus pods, the SockJS xhr fallbacks get session affinity, rollouts and drains are bounded.
 */
class ManifestsTest {
  static final String PART_OF = "app.kubernetes.io/part-of";
  /** The drain deadline each role reads, which its pods must set next to their grace period (issue 8 section 2). */
  static final Map<String, String> DRAIN_SETTING = Map.of("gateway", "TOKENBUS_GATEWAY_DRAIN_SECONDS", "worker", "TOKENBUS_DRAIN_SECONDS");
  /** After its drain a node leaves the Hazelcast cluster: no cluster operation waits longer (TOKENBUS_CLUSTER_FAILURE_SECONDS). */
  static final int CLUSTER_LEAVE_SECONDS = 10;

  static List<HasMetadata> objects;

  @BeforeAll
  static void load() {
    if (Manifests.rendered() == null && !Manifests.CI) {
      // The one line a developer without kubectl sees; the other tests check the listed files as they are.
      System.out.println("[deploy] kubectl not on the PATH: `kubectl kustomize deploy/k8s` NOT rendered (required under CI=true);"
        + " checking the files kustomization.yaml lists instead");
    }
    objects = Manifests.objects();
  }

  // ---------------------------------------------------------------- rendering and schema

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
    assertEquals(new TreeSet<>(fromFiles), new TreeSet<>(objects.stream().map(ManifestsTest::id).toList()));
    assertEquals(fromFiles.size(), objects.size(), "an object is rendered twice or dropped");
  }

  @Test
  void everyObjectIsNamedAndInTheTokenbusNamespace() {
    assertFalse(objects.isEmpty());
    for (HasMetadata o : objects) {
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

  // ---------------------------------------------------------------- configuration

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

  // ---------------------------------------------------------------- probes

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

  // ---------------------------------------------------------------- rollouts and disruptions

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
      "GatewayVerticle's readiness no longer reports a drain: update ManifestsTest with the code");
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

  // ---------------------------------------------------------------- network

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

  // ---------------------------------------------------------------- helpers

  static String id(HasMetadata o) {
    return o.getKind() + "/" + o.getMetadata().getName();
  }

  static <T extends HasMetadata> List<T> all(Class<T> type) {
    return objects.stream().filter(type::isInstance).map(type::cast).toList();
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
      "\"TOKENBUS_HAZELCAST_PORT\", \"(\\d+)\""));
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
