package io.tokenbus.checkpoint;

import io.tokenbus.events.Addresses;
import io.tokenbus.events.ChunkEvent;
import io.tokenbus.events.JobIds;
import io.tokenbus.events.JobRequest;
import io.tokenbus.events.StatusEvent;
import io.tokenbus.events.TokenbusException;
import io.tokenbus.events.internal.AppendRequest;
import io.tokenbus.events.internal.AppendResult;
import io.tokenbus.events.internal.JobAssignment;
import io.tokenbus.events.internal.JobSnapshot;
import io.tokenbus.events.internal.ReplayRequest;
import io.tokenbus.runtime.Node;
import io.tokenbus.testing.TestRedis;
import io.vertx.core.Future;
import io.vertx.core.eventbus.EventBus;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;
import java.security.SecureRandom;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.function.UnaryOperator;
import java.util.stream.LongStream;

/** A node with a checkpoint verticle on a given Redis, the event-bus calls workers and gateways make, and raw Redis. */
final class StoreFixture implements AutoCloseable {
  private static final SecureRandom random = new SecureRandom();
  final Node node;
  final EventBus eb;
  final CheckpointVerticle verticle;
  final CheckpointConfig config;
  private final Redis raw;
  /** The Redis this fixture started for itself and stops on close, or null. */
  private TestRedis ownRedis;

  private StoreFixture(Node node, CheckpointVerticle verticle, CheckpointConfig config, Redis raw) {
    this.node = node;
    this.eb = node.vertx().eventBus();
    this.verticle = verticle;
    this.config = config;
    this.raw = raw;
  }

  /** A store on a Redis of its own, started here and stopped by {@link #close()}. */
  static StoreFixture onOwnRedis(UnaryOperator<CheckpointConfig> tune) {
    TestRedis redis = TestRedis.start();
    try {
      StoreFixture f = start(redis.url(), tune);
      f.ownRedis = redis;
      return f;
    } catch (RuntimeException e) {
      redis.close();
      throw e;
    }
  }

  static StoreFixture start(String url, UnaryOperator<CheckpointConfig> tune) {
    return start(tune.apply(CheckpointConfig.defaults(url)), url);
  }

  /** A store on {@code config}'s Redis; {@code rawUrl} (one server) for {@link #redis}, or null for none. */
  static StoreFixture start(CheckpointConfig config, String rawUrl) {
    Node node = Node.local();
    CheckpointVerticle v = new CheckpointVerticle(config, node.registry());
    try {
      node.vertx().deployVerticle(v).await();
    } catch (RuntimeException e) {
      node.close().await();
      throw e;
    }
    return new StoreFixture(node, v, config, rawUrl == null ? null : Redis.createClient(node.vertx(), rawUrl));
  }

  String newId() {
    return JobIds.newId(random);
  }

  String open() {
    return open(JobRequest.ask("p"));
  }

  String open(JobRequest request) {
    String id = newId();
    eb.request(Addresses.CHECKPOINT_OPEN, new JobAssignment(id, request, 42)).await();
    return id;
  }

  static List<ChunkEvent> chunks(String id, long from, long to) {
    return LongStream.rangeClosed(from, to).mapToObj(s -> new ChunkEvent(id, "t" + s + " ", s, s, null)).toList();
  }

  Future<AppendResult> appendAsync(String id, List<ChunkEvent> chunks, StatusEvent terminal) {
    return eb.<AppendResult>request(Addresses.CHECKPOINT_APPEND, new AppendRequest(id, chunks, terminal)).map(m -> m.body());
  }

  AppendResult append(String id, List<ChunkEvent> chunks, StatusEvent terminal) {
    return appendAsync(id, chunks, terminal).await();
  }

  Future<JobSnapshot> replayAsync(String id, long after) {
    return eb.<JobSnapshot>request(Addresses.CHECKPOINT_REPLAY, new ReplayRequest(id, after, 0)).map(m -> m.body());
  }

  JobSnapshot replay(String id, long after) {
    return replayAsync(id, after).await();
  }

  /** Redis commands the store has sent so far (its pipeline's commands-per-round-trip summary). */
  double commandsSent() {
    return node.registry().get("tokenbus_checkpoint_batch_commands").summary().totalAmount();
  }

  /** A raw command on a separate client, e.g. redis("XTRIM", key, "MAXLEN", "4"). */
  Response redis(String... cmd) {
    Request r = Request.cmd(Command.create(cmd[0]));
    for (int i = 1; i < cmd.length; i++) {
      r.arg(cmd[i]);
    }
    return raw.send(r).await();
  }

  static String meta(String id) {
    return JobKeys.of(id).meta();
  }

  static String log(String id) {
    return JobKeys.of(id).log();
  }

  static TokenbusException failure(Future<?> f) {
    try {
      f.toCompletionStage().toCompletableFuture().get();
    } catch (ExecutionException e) {
      return TokenbusException.from(e.getCause());
    } catch (InterruptedException e) {
      throw new IllegalStateException(e);
    }
    throw new AssertionError("expected a failure");
  }

  @Override
  public void close() {
    if (raw != null) {
      raw.close();
    }
    node.close().await();
    if (ownRedis != null) {
      ownRedis.close();
    }
  }
}
