package io.tokenbus.runtime;

import com.hazelcast.config.Config;
import com.hazelcast.config.JoinConfig;
import com.hazelcast.config.NetworkConfig;
import io.tokenbus.events.codec.EventCodecs;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.eventbus.EventBusOptions;
import io.vertx.core.internal.logging.Logger;
import io.vertx.core.internal.logging.LoggerFactory;
import io.vertx.micrometer.MicrometerMetricsFactory;
import io.vertx.micrometer.MetricsDomain;
import io.vertx.micrometer.MicrometerMetricsOptions;
import io.vertx.micrometer.VertxPrometheusOptions;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.spi.cluster.hazelcast.ConfigUtil;
import io.vertx.spi.cluster.hazelcast.HazelcastClusterManager;

/** Builds a Vert.x instance, local or Hazelcast-clustered, with Prometheus metrics and the contract codecs. */
public final class Nodes {
  private static final Logger log = LoggerFactory.getLogger(Nodes.class);
  private Nodes() {}

  public static Future<Node> start(NodeOptions o) {
    PrometheusMeterRegistry registry = Node.newRegistry();
    VertxOptions vo = new VertxOptions();
    if (o.eventLoops() > 0) {
      vo.setEventLoopPoolSize(o.eventLoops());
    }
    // epoll: fewer system calls and copies per write than NIO's selector (docs/benchmarks.md), and the socket options
    // NIO ignores (TCP_USER_TIMEOUT on the Redis links).
    vo.setPreferNativeTransport(o.nativeTransport());
    if (o.metrics()) {
      // Vert.x' event-bus meters are off: they look their meters up on every message (about 5% of the CPU per token
      // at batch 1), and the tokenbus series count what crosses the bus where it matters (docs/operations.md).
      vo.setMetricsOptions(new MicrometerMetricsOptions().setEnabled(true).setJvmMetricsEnabled(true)
        .addDisabledMetricsCategory(MetricsDomain.EVENT_BUS)
        .setPrometheusOptions(new VertxPrometheusOptions().setEnabled(true)));
    }
    var builder = Vertx.builder().with(vo).withMetrics(new StartupSafeMetrics(new MicrometerMetricsFactory(registry)));
    HazelcastClusterManager manager = o.clustered() ? new HazelcastClusterManager(hazelcast(o)) : null;
    Future<Vertx> vertx;
    if (manager != null) {
      vo.setEventBusOptions(new EventBusOptions().setHost(o.clusterHost()).setPort(0).setClusterPublicHost(o.clusterHost()));
      vertx = builder.withClusterManager(manager).buildClustered();
    } else {
      vertx = Future.succeededFuture(builder.build());
    }
    return vertx.map(v -> {
      String transport = v.isNativeTransportEnabled() ? "native (epoll)" : "NIO" + (o.nativeTransport()
        ? " (native unavailable: " + v.unavailableNativeTransportCause() + ")" : " (TOKENBUS_NATIVE_TRANSPORT=false)");
      log.info("node started, network transport " + transport + ": " + o.toJson().encode());
      EventCodecs.register(v.eventBus());
      return new Node(v, registry, manager);
    });
  }

  static Config hazelcast(NodeOptions o) {
    Config hz = ConfigUtil.loadConfig();
    hz.setClusterName(o.clusterName());
    hz.setProperty("hazelcast.phone.home.enabled", "false");
    hz.setProperty("hazelcast.wait.seconds.before.join", "0");
    hz.setProperty("hazelcast.max.wait.seconds.before.join", "0");
    hz.setProperty("hazelcast.logging.type", "jdk");
    // A frozen or partitioned member (GC, SIGSTOP, lost host) must not hold the others up: Hazelcast's defaults
    // (heartbeat timeout 60 s, operation timeout 60 s) left a healthy gateway's new subscriptions parked for as long.
    hz.setProperty("hazelcast.heartbeat.interval.seconds", "1");
    hz.setProperty("hazelcast.max.no.heartbeat.seconds", String.valueOf(o.failureDetectionSeconds()));
    hz.setProperty("hazelcast.operation.call.timeout.millis", String.valueOf(o.failureDetectionSeconds() * 1000L));
    hz.setProperty("hazelcast.invocation.max.retry.count", "20");
    // A member removed while frozen finds itself alone when it thaws: let it merge back within seconds, not the
    // default 5 minutes during which it would answer no_worker to everything (its readiness is down meanwhile).
    hz.setProperty("hazelcast.merge.first.run.delay.seconds", "5");
    hz.setProperty("hazelcast.merge.next.run.delay.seconds", "5");
    NetworkConfig net = hz.getNetworkConfig();
    net.setPort(o.hazelcastPort()).setPortAutoIncrement(true).setPortCount(50);
    JoinConfig join = net.getJoin();
    join.getMulticastConfig().setEnabled(false);
    join.getAutoDetectionConfig().setEnabled(false);
    if (o.kubernetesServiceDns() != null) {
      join.getKubernetesConfig().setEnabled(true).setProperty("service-dns", o.kubernetesServiceDns());
    } else {
      net.getInterfaces().setEnabled(true).addInterface(o.clusterHost());
      join.getTcpIpConfig().setEnabled(true);
      o.clusterMembers().forEach(m -> join.getTcpIpConfig().addMember(m));
    }
    return hz;
  }
}
