package io.tokenbus.checkpoint;

import io.tokenbus.events.ErrorCode;
import io.tokenbus.events.TokenbusException;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.net.NetClientOptions;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.RedisClientType;
import io.vertx.redis.client.RedisConnection;
import io.vertx.redis.client.RedisOptions;
import io.vertx.redis.client.RedisReplicas;
import io.vertx.redis.client.RedisRole;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;
import io.vertx.redis.client.ResponseType;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * One dedicated Redis connection carrying pipelined round trips ("trips"), with its own reconnect.
 *
 * <p>Why a dedicated connection and not the pooled client: vertx-redis-client 5.0.7 has no command timeout, and the
 * pooled {@code batch()} hides which socket a batch runs on, so a connection that stops answering without a reset (a
 * paused Redis, a lost peer) keeps its borrowed connection and callers for ever, and cannot be closed alone. Here each
 * link owns one socket through its own one-connection client: trips on one socket are answered in the order they were
 * sent, so the oldest unanswered trip tells whether the connection still answers ({@link #check}, called by the
 * pipeline's watchdog), and a dead link is closed whole (client included, so nothing leaks) and replaced with backoff.
 * One socket carries 200k+ pipelined commands/s (docs/VERTX5-NOTES section 3), more than a Redis core serves.
 *
 * <p>Deployments ({@code TOKENBUS_REDIS_MODE}), through the client's own modes:
 * <ul>
 *   <li>standalone: one socket, a trip is one {@code batch()}.</li>
 *   <li>cluster: the link's client holds one socket per cluster node and routes each command by its key's slot,
 *   following MOVED/ASK and retrying TRYAGAIN/CLUSTERDOWN. The client's {@code batch()} refuses commands whose keys
 *   live on different nodes (and would send a batch of keyless SCRIPT LOADs to one random node), so a trip is
 *   sent command by command: still all written in the same event-loop turn, one socket write per command; each
 *   node's answers come back in order. A lost socket to any node, or a silent node, closes the link whole.</li>
 *   <li>sentinel: each connect asks the sentinels for the current master ({@link RedisRole#MASTER}) and gets a
 *   plain connection to it. The client's auto-failover is off on purpose: it swaps the socket under a connection
 *   silently, while the link must fail the commands in flight on the dead master ({@code store_unavailable}) and
 *   judge the new one with its watchdog. After a failover the old master's socket closes (or goes silent: the
 *   watchdog) and the reconnect asks the sentinels again; a node that answers READONLY was demoted to a replica, so
 *   the link reconnects too.</li>
 * </ul>
 *
 * <p>Not thread-safe: used from its owner verticle's context only.
 */
final class RedisLink {
  interface Listener {
    void linkUp(RedisLink link);

    void linkDown(RedisLink link, String cause);

    void connectFailed(RedisLink link, String cause);

    /** A trip ended (answered or failed): there is room for another. */
    void tripDone(RedisLink link);

    /** A round trip was answered {@code nanos} after it was sent (for metrics). */
    default void tripAnswered(long nanos) {
    }

    /** An error reply that says Redis cannot serve right now (LOADING, BUSY, READONLY...). */
    void trouble(String cause);
  }

  private enum State { CONNECTING, UP, WAITING, CLOSED }

  private static final class Trip {
    final List<Pending> commands;
    final long sentAt;
    boolean done;

    Trip(List<Pending> commands, long sentAt) {
      this.commands = commands;
      this.sentAt = sentAt;
    }
  }

  private final Vertx vertx;
  private final Context context;
  private final int index;
  private final RedisOptions options;
  private final long timeoutNanos;
  private final long maxDelayMs;
  private final Listener listener;
  private final CheckpointConfig.RedisMode mode;
  /** Unanswered trips, oldest first. */
  private final ArrayDeque<Trip> trips = new ArrayDeque<>();
  /** The oldest trip, found overdue by the previous watchdog round. */
  private Trip suspect;
  private State state = State.WAITING;
  private Redis client;
  private RedisConnection connection;
  /** Bumped whenever a connection (or an attempt) is given up, so its late events are ignored. */
  private long generation;
  private long connectStartedAt;
  private int failedAttempts;
  private int ups;
  private long retryTimer = -1;

  RedisLink(Vertx vertx, Context context, int index, CheckpointConfig config, Listener listener) {
    this.vertx = vertx;
    this.context = context;
    this.index = index;
    this.listener = listener;
    this.timeoutNanos = config.redisTimeout().toNanos();
    this.maxDelayMs = config.reconnectMaxDelay().toMillis();
    int timeoutMs = (int) config.redisTimeout().toMillis();
    NetClientOptions net = new NetClientOptions().setTcpNoDelay(true).setConnectTimeout(timeoutMs);
    // Keepalive finds peers that vanished while the link idles (a paused Redis still ACKs: the watchdog covers that);
    // TCP_USER_TIMEOUT (native epoll only, ignored otherwise) drops a connection whose writes go unacknowledged.
    net.setTcpKeepAlive(true);
    net.setTcpUserTimeout(timeoutMs);
    this.mode = config.redisMode();
    // one socket per endpoint (per cluster node; per sentinel and the master in sentinel mode)
    this.options = new RedisOptions().setNetClientOptions(net)
      .setMaxPoolSize(1).setMaxPoolWaiting(1).setPoolCleanerInterval(-1).setPoolRecycleTimeout(-1)
      // room for every command of every trip in flight, plus re-sends and script loads
      .setMaxWaitingHandlers(2 * (config.maxInFlight() + 1) * config.maxBatch() + 64);
    config.redisEndpoints().forEach(options::addConnectionString);
    switch (mode) {
      // Two sockets per node: the link holds one, and the client refreshes its slot map (CLUSTER SLOTS, every
      // hashSlotCacheTTL and on MOVED) on a second one from the same pool; with one, the refresh waits for ever.
      case CLUSTER -> options.setType(RedisClientType.CLUSTER).setUseReplicas(RedisReplicas.NEVER)
        .setMaxPoolSize(2).setMaxPoolWaiting(16).setHashSlotCacheTTL(5000);
      case SENTINEL -> options.setType(RedisClientType.SENTINEL).setMasterName(config.masterName())
        .setRole(RedisRole.MASTER).setAutoFailover(false);
      default -> options.setType(RedisClientType.STANDALONE);
    }
  }

  int index() {
    return index;
  }

  /** How many times this link came up (1 after the first connection). */
  int ups() {
    return ups;
  }

  boolean isUp() {
    return state == State.UP;
  }

  int inFlight() {
    return trips.size();
  }

  void start() {
    connect();
  }

  private void connect() {
    retryTimer = -1;
    if (state == State.CLOSED) {
      return;
    }
    state = State.CONNECTING;
    connectStartedAt = System.nanoTime();
    long gen = ++generation;
    Redis c = Redis.createClient(vertx, options);
    client = c;
    c.connect().onComplete(ar -> {
      if (gen != generation || state != State.CONNECTING) {
        c.close(); // given up on meanwhile (deadline, stop): make sure nothing of it stays open
        return;
      }
      if (ar.failed()) {
        giveUpAttempt(describe(ar.cause()));
        return;
      }
      RedisConnection conn = ar.result();
      conn.exceptionHandler(e -> lost(gen, describe(e)));
      conn.endHandler(v -> lost(gen, "connection closed by Redis"));
      connection = conn;
      state = State.UP;
      failedAttempts = 0;
      ups++;
      listener.linkUp(this);
    });
  }

  private void giveUpAttempt(String cause) {
    generation++;
    Redis c = client;
    client = null;
    state = State.WAITING;
    if (c != null) {
      c.close();
    }
    listener.connectFailed(this, cause);
    scheduleConnect();
  }

  private void scheduleConnect() {
    long delay = failedAttempts == 0 ? 0 : Math.min(maxDelayMs, 50L << Math.min(10, failedAttempts - 1));
    failedAttempts++;
    // Jitter: the gateways and workers of a cluster all lose Redis at once and should not all knock at once.
    delay = delay / 2 + ThreadLocalRandom.current().nextLong(delay / 2 + 1);
    if (delay == 0) {
      context.runOnContext(v -> connect());
    } else {
      retryTimer = vertx.setTimer(delay, id -> connect());
    }
  }

  private void lost(long gen, String cause) {
    if (gen == generation && state == State.UP) {
      kill(cause);
    }
  }

  /** Closes the connection, fails its unanswered commands (store_unavailable) and reconnects. */
  private void kill(String cause) {
    generation++;
    suspect = null;
    state = State.WAITING;
    Redis c = client;
    client = null;
    connection = null;
    if (c != null) {
      c.close();
    }
    failTrips(RedisFailures.unavailable("redis connection lost: " + cause));
    listener.linkDown(this, cause);
    scheduleConnect();
  }

  /**
   * Watchdog: gives up a handshake or a round trip unanswered for longer than the deadline. A trip is given up when
   * two watchdog rounds in a row find it overdue, so the event loop has read the socket in between: an answer that
   * arrived while this process was busy (a burst of work, a GC pause) is not mistaken for a silent Redis. After a
   * {@code stalled} round (this process did not run for a while) nothing is judged.
   */
  void check(long now, boolean stalled) {
    if (stalled) {
      suspect = null;
    } else if (state == State.CONNECTING && now - connectStartedAt > timeoutNanos) {
      giveUpAttempt("no answer to the handshake within " + TimeUnit.NANOSECONDS.toMillis(timeoutNanos) + " ms");
    } else if (state == State.UP && !trips.isEmpty() && now - trips.peekFirst().sentAt > timeoutNanos) {
      if (suspect == trips.peekFirst()) {
        kill("no answer within " + TimeUnit.NANOSECONDS.toMillis(timeoutNanos) + " ms");
      } else {
        suspect = trips.peekFirst();
      }
    }
  }

  /** Sends the commands in one write; their answers come back together. */
  void sendBatch(List<Pending> commands) {
    if (mode == CheckpointConfig.RedisMode.CLUSTER) {
      sendEach(commands); // see the class comment: a cluster batch cannot span nodes
      return;
    }
    Trip t = new Trip(commands, System.nanoTime());
    trips.add(t);
    List<Request> requests = new ArrayList<>(commands.size());
    for (Pending p : commands) {
      requests.add(p.request());
    }
    connection.batch(requests).onComplete(ar -> {
      if (t.done) {
        return; // failed already by the watchdog or a connection loss
      }
      if (ar.succeeded()) {
        finish(t);
        listener.tripAnswered(System.nanoTime() - t.sentAt);
        List<Response> rs = ar.result();
        for (int i = 0; i < commands.size(); i++) {
          commands.get(i).promise().tryComplete(rs.get(i));
        }
        listener.tripDone(this);
      } else {
        batchFailed(t, ar.cause());
      }
    });
  }

  /**
   * A batch fails whole when one of its commands gets an error reply, although the others ran and their answers are
   * dropped. When every command failed, each gets its own error; otherwise each is sent again on its own so only the
   * failing one fails: the scripts are idempotent, so running one twice answers as the first run did.
   */
  private void batchFailed(Trip t, Throwable cause) {
    Map<Integer, String> causes = isErrorReply(cause) ? RedisFailures.batchCauses(cause.getMessage()) : null;
    if (causes == null || causes.values().stream().anyMatch(c -> c.startsWith("CONNECTION_CLOSED"))) {
      kill(describe(cause));
      return;
    }
    finish(t);
    if (causes.size() == t.commands.size()) {
      for (int i = 0; i < t.commands.size(); i++) {
        failReply(t.commands.get(i), causes.get(i));
      }
      listener.tripDone(this);
    } else {
      sendEach(t.commands);
    }
  }

  private void sendEach(List<Pending> commands) {
    Trip t = new Trip(commands, System.nanoTime());
    trips.add(t);
    RedisConnection conn = connection;
    int[] left = {commands.size()};
    for (Pending p : commands) {
      if (t.done) {
        break;
      }
      conn.send(p.request()).onComplete(ar -> {
        if (t.done) {
          return;
        }
        if (ar.succeeded()) {
          p.promise().tryComplete(ar.result());
        } else if (isErrorReply(ar.cause()) && !String.valueOf(ar.cause().getMessage()).startsWith("CONNECTION_CLOSED")) {
          failReply(p, ar.cause().getMessage());
        } else {
          kill(describe(ar.cause()));
          return;
        }
        if (--left[0] == 0) {
          finish(t);
          listener.tripAnswered(System.nanoTime() - t.sentAt);
          listener.tripDone(this);
        }
      });
    }
  }

  private void failReply(Pending p, String message) {
    TokenbusException e = RedisFailures.reply(message);
    if (e.code() == ErrorCode.STORE_UNAVAILABLE) {
      listener.trouble(message);
    }
    p.promise().tryFail(e);
    if (mode == CheckpointConfig.RedisMode.SENTINEL && state == State.UP && String.valueOf(message).startsWith("READONLY")) {
      kill("the node became a replica (READONLY); asking the sentinels for the master");
    }
  }

  private void finish(Trip t) {
    t.done = true;
    trips.remove(t);
  }

  private void failTrips(TokenbusException e) {
    Trip t;
    while ((t = trips.poll()) != null) {
      t.done = true;
      for (Pending p : t.commands) {
        p.promise().tryFail(e);
      }
    }
  }

  Future<Void> close() {
    state = State.CLOSED;
    generation++;
    if (retryTimer >= 0) {
      vertx.cancelTimer(retryTimer);
      retryTimer = -1;
    }
    Redis c = client;
    client = null;
    connection = null;
    failTrips(RedisFailures.unavailable("the checkpoint store is stopping"));
    return c == null ? Future.succeededFuture() : c.close();
  }

  /** Redis error replies fail futures as a Throwable that is also a Response of type ERROR. */
  private static boolean isErrorReply(Throwable t) {
    return t instanceof Response r && r.type() == ResponseType.ERROR;
  }

  private static String describe(Throwable t) {
    String m = t.getMessage();
    return m == null || m.isBlank() ? t.getClass().getSimpleName() : m;
  }
}
