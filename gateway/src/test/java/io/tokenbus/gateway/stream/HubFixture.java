package io.tokenbus.gateway.stream;

import io.tokenbus.checkpoint.CheckpointConfig;
import io.tokenbus.events.Addresses;
import io.tokenbus.events.JobIds;
import io.tokenbus.events.JobRequest;
import io.tokenbus.events.internal.JobAssignment;
import io.tokenbus.events.internal.JobSnapshot;
import io.tokenbus.checkpoint.CheckpointVerticle;
import io.tokenbus.gateway.GatewayConfig;
import io.tokenbus.gateway.auth.StreamTokens;
import io.tokenbus.gateway.jobs.JobService;
import io.tokenbus.runtime.Node;
import io.tokenbus.testing.TestRedis;
import io.vertx.core.Context;
import io.vertx.core.Promise;
import io.vertx.core.eventbus.EventBus;
import java.security.SecureRandom;
import java.time.Clock;
import java.util.function.Supplier;

/** A real Redis, a checkpoint store and one gateway's {@link JobStreamHub} on its own context, for follower tests. */
final class HubFixture implements AutoCloseable {
  final TestRedis redis;
  final Node node;
  final EventBus eb;
  final Context context;
  final JobService jobs;
  final JobStreamHub hub;

  private HubFixture(GatewayConfig config) {
    redis = TestRedis.start();
    node = Node.local();
    eb = node.vertx().eventBus();
    node.vertx().deployVerticle(new CheckpointVerticle(CheckpointConfig.defaults(redis.url()), node.registry())).await();
    context = node.vertx().getOrCreateContext();
    jobs = new JobService(node.vertx(), config, new StreamTokens(config.tokenSecret(), config.tokenTtl(), Clock.systemUTC()));
    hub = on(() -> new JobStreamHub(node.vertx(), config, jobs));
  }

  static HubFixture start(GatewayConfig config) {
    return new HubFixture(config);
  }

  /** Runs on the hub's context and waits for the result (the hub is event-loop confined). */
  <T> T on(Supplier<T> action) {
    Promise<T> p = Promise.promise();
    context.runOnContext(v -> p.complete(action.get()));
    return p.future().await();
  }

  /** Opens a job in the store, as a worker taking it does. */
  String openJob(JobRequest request) {
    String id = JobIds.newId(new SecureRandom());
    eb.request(Addresses.CHECKPOINT_OPEN, new JobAssignment(id, request, 1)).await();
    return id;
  }

  /** A follower of {@code id} taking every event kind, past its (empty or not) replay from the start. */
  Follower follow(String id, StreamSink sink) {
    Follower f = on(() -> {
      Follower x = hub.follow(id, sink);
      x.want(true, true, true);
      return x;
    });
    f.feed().registered().await();
    JobSnapshot reply = on(() -> f.replay(0)).await();
    on(() -> {
      f.replayWritten(reply);
      return null;
    });
    return f;
  }

  @Override
  public void close() {
    node.close().await();
    redis.close();
  }
}
