package io.tokenbus.checkpoint;

import io.micrometer.core.instrument.DistributionSummary;
import io.tokenbus.events.ErrorCode;
import io.tokenbus.events.TokenbusException;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.internal.logging.Logger;
import io.vertx.core.internal.logging.LoggerFactory;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Coalesces the commands issued during one event-loop turn into pipelined round trips over a few dedicated
 * connections ({@link RedisLink}), with a deadline on every command and precedence for writes.
 *
 * <ul>
 *   <li>Writes (open, append, lease, terminals) and reads (replays, status reads) wait in separate bounded queues.
 *   A trip takes writes first and fills up with a few reads, and reads may occupy all round trips of a connection
 *   but one, so a flood of replays cannot hold back appends; beyond its own smaller bound a read gets
 *   {@code overloaded} while writes still go.</li>
 *   <li>Deadlines: one periodic watchdog (not a timer per command: this path carries tens of thousands of commands a
 *   second) closes a connection whose oldest round trip is unanswered past the deadline and fails commands that
 *   waited in a queue that long.</li>
 *   <li>While no connection is up, commands fail at once with {@code store_unavailable} instead of queueing; the
 *   links reconnect by themselves. Loss and recovery are logged once per transition.</li>
 * </ul>
 *
 * <p>Not thread-safe: used from its owner verticle's context only.
 */
final class RedisPipeline implements RedisLink.Listener {
  private static final Logger log = LoggerFactory.getLogger(RedisPipeline.class);
  /** Reads per round trip: a replay answer can hold thousands of chunks, so a trip carries only a few of them. */
  private static final int READS_PER_TRIP = 64;
  /**
   * Reads may queue this many deadlines before they are shed: a gateway restart makes thousands of clients resume at
   * once, and answering them a few seconds late beats sending them all back with 503.
   */
  private static final int READ_QUEUE_DEADLINES = 5;
  private static final long START_WAIT_MS = 5000;

  private final Vertx vertx;
  private final Context context;
  private final int maxPending;
  private final int maxPendingReads;
  private final int maxBatch;
  private final int maxInFlight;
  private final long timeoutNanos;
  private final DistributionSummary batchSizes;
  private final List<RedisLink> links = new ArrayList<>();
  private final ArrayDeque<Pending> writes = new ArrayDeque<>();
  private final ArrayDeque<Pending> reads = new ArrayDeque<>();
  private final List<Promise<Void>> upWaiters = new ArrayList<>();
  private final List<Promise<Void>> allUpWaiters = new ArrayList<>();
  private boolean flushScheduled;
  private boolean flushing;
  /** Read by the metrics scrape too. */
  private volatile int linksUp;
  private long watchdog = -1;
  private long checkPeriodNanos;
  private long lastCheck;
  /**
   * nanoTime of the last event that may have failed commands (a connection lost, an error reply of an unavailable
   * Redis) or of the return after an outage: leases are only judged on a store reachable since then.
   */
  private long lastTrouble;
  private long downSince = -1;
  private String lastCause = "not connected yet";
  private boolean wasUp;
  private int next;
  private StoreMetrics metrics;

  RedisPipeline(Vertx vertx, Context context, CheckpointConfig config, DistributionSummary batchSizes) {
    this.vertx = vertx;
    this.context = context;
    this.maxPending = config.maxPending();
    this.maxPendingReads = config.maxPendingReads();
    this.maxBatch = config.maxBatch();
    this.maxInFlight = config.maxInFlight();
    this.timeoutNanos = config.redisTimeout().toNanos();
    this.batchSizes = batchSizes;
    for (int i = 0; i < config.connections(); i++) {
      links.add(new RedisLink(vertx, context, i, config, this));
    }
  }

  /**
   * Connects; completes once a connection is up. Fails if none is up within {@link #START_WAIT_MS} (or twice the
   * deadline, if longer): the first handshake of a cold JVM can outlast a short deadline, and is simply tried again.
   */
  Future<Void> start() {
    lastTrouble = System.nanoTime();
    long period = Math.max(5, TimeUnit.NANOSECONDS.toMillis(timeoutNanos) / 4);
    checkPeriodNanos = TimeUnit.MILLISECONDS.toNanos(period);
    watchdog = vertx.setPeriodic(period, id -> check());
    links.forEach(RedisLink::start);
    Promise<Void> started = Promise.promise();
    long timer = vertx.setTimer(Math.max(START_WAIT_MS, 2 * TimeUnit.NANOSECONDS.toMillis(timeoutNanos)), id ->
      started.tryFail(RedisFailures.unavailable("cannot reach redis: " + lastCause)));
    whenUp().onComplete(ar -> {
      vertx.cancelTimer(timer);
      started.tryComplete();
    });
    return started.future();
  }

  Future<Void> close() {
    if (watchdog >= 0) {
      vertx.cancelTimer(watchdog);
      watchdog = -1;
    }
    List<Future<Void>> closed = links.stream().map(RedisLink::close).toList();
    linksUp = 0;
    failQueued(RedisFailures.unavailable("the checkpoint store is stopping"));
    return Future.join(closed).mapEmpty();
  }

  Future<Response> write(Request request) {
    return metered("write", send(request, writes, maxPending, "write"));
  }

  Future<Response> read(Request request) {
    return metered("read", send(request, reads, maxPendingReads, "read"));
  }

  /** Records round trips, losses and failed commands in {@code m} from now on. */
  void metrics(StoreMetrics m) {
    metrics = m;
  }

  private Future<Response> metered(String op, Future<Response> f) {
    return metrics == null ? f : metrics.command(op, f);
  }

  /** Round trips sent on all connections and not answered yet. */
  int tripsInFlight() {
    int n = 0;
    for (RedisLink l : links) {
      n += l.inFlight();
    }
    return n;
  }

  private Future<Response> send(Request request, ArrayDeque<Pending> queue, int max, String kind) {
    if (linksUp == 0) {
      return Future.failedFuture(RedisFailures.unavailable("redis is unreachable: " + lastCause));
    }
    if (queue.size() >= max) {
      return Future.failedFuture(new TokenbusException(ErrorCode.OVERLOADED,
        "checkpoint " + kind + " queue is full (" + max + " commands waiting)"));
    }
    Promise<Response> p = Promise.promise();
    queue.add(new Pending(request, p, System.nanoTime()));
    if (!flushScheduled) {
      flushScheduled = true;
      context.runOnContext(v -> flush());
    }
    return p.future();
  }

  /** Completes once a connection is up (at once if one is). */
  Future<Void> whenUp() {
    if (linksUp > 0) {
      return Future.succeededFuture();
    }
    Promise<Void> p = Promise.promise();
    upWaiters.add(p);
    return p.future();
  }

  /** Completes once every connection is up (at once if they are). */
  Future<Void> whenAllUp() {
    if (linksUp == links.size()) {
      return Future.succeededFuture();
    }
    Promise<Void> p = Promise.promise();
    allUpWaiters.add(p);
    return p.future();
  }

  /**
   * How long Redis has answered on every connection since the last lost connection or outage; 0 while one is down.
   * A connection still down says nothing of when Redis answered again (a paused Redis goes unnoticed by an idle
   * connection), so health counts from the moment all are back.
   */
  long healthyForNanos() {
    return linksUp < links.size() ? 0 : System.nanoTime() - lastTrouble;
  }

  int connectionsUp() {
    return linksUp;
  }

  int queuedWrites() {
    return writes.size();
  }

  int queuedReads() {
    return reads.size();
  }

  private void flush() {
    flushScheduled = false;
    if (flushing) {
      return; // a trip failed at once inside the loop below, which goes on anyway
    }
    flushing = true;
    try {
      fill();
    } finally {
      flushing = false;
    }
  }

  private void fill() {
    while (!writes.isEmpty() || !reads.isEmpty()) {
      RedisLink link = leastBusy();
      if (link == null) {
        return;
      }
      // The last round trip of a connection is kept for writes, so they never wait behind a wall of reads.
      boolean readsMayGo = maxInFlight == 1 || link.inFlight() < maxInFlight - 1;
      if (writes.isEmpty() && !readsMayGo) {
        return;
      }
      int n = Math.min(maxBatch, writes.size());
      int r = readsMayGo ? Math.min(Math.min(maxBatch - n, READS_PER_TRIP), reads.size()) : 0;
      List<Pending> batch = new ArrayList<>(n + r);
      for (int i = 0; i < n; i++) {
        batch.add(writes.poll());
      }
      for (int i = 0; i < r; i++) {
        batch.add(reads.poll());
      }
      batchSizes.record(batch.size());
      link.sendBatch(batch);
    }
  }

  /** The up connection with the fewest round trips in flight and room for one more (round robin among equals). */
  private RedisLink leastBusy() {
    RedisLink best = null;
    int size = links.size();
    for (int i = 0; i < size; i++) {
      RedisLink l = links.get((next + i) % size);
      if (l.isUp() && l.inFlight() < maxInFlight && (best == null || l.inFlight() < best.inFlight())) {
        best = l;
      }
    }
    next = (next + 1) % size;
    return best;
  }

  private void check() {
    long now = System.nanoTime();
    // A round far later than its period means this process did not run (GC pause, starved CPU): no evidence on Redis.
    boolean stalled = lastCheck > 0 && now - lastCheck > 2 * checkPeriodNanos;
    lastCheck = now;
    for (RedisLink l : links) {
      l.check(now, stalled);
    }
    expire(writes, now, timeoutNanos);
    expire(reads, now, READ_QUEUE_DEADLINES * timeoutNanos);
  }

  /** Commands that waited their whole deadline in a queue: Redis answers, but not fast enough for this load. */
  private void expire(ArrayDeque<Pending> queue, long now, long waitNanos) {
    Pending p;
    while ((p = queue.peek()) != null && now - p.queuedAt() > waitNanos) {
      queue.poll();
      p.promise().tryFail(new TokenbusException(ErrorCode.OVERLOADED,
        "no redis round trip free within " + TimeUnit.NANOSECONDS.toMillis(waitNanos) + " ms"));
    }
  }

  @Override
  public void linkUp(RedisLink link) {
    linksUp++;
    long now = System.nanoTime();
    if (linksUp == 1 || link.ups() > 1) {
      lastTrouble = now; // back after a loss: renewals may have failed until now
    }
    if (linksUp == 1) {
      if (!wasUp) {
        log.info("checkpoint store connected to redis");
      } else {
        log.info("redis reachable again after " + TimeUnit.NANOSECONDS.toMillis(now - downSince) + " ms");
      }
      wasUp = true;
      downSince = -1;
      List<Promise<Void>> waiting = new ArrayList<>(upWaiters);
      upWaiters.clear();
      waiting.forEach(Promise::tryComplete);
    } else if (link.ups() > 1) {
      log.info("redis connection " + link.index() + " back; " + linksUp + " of " + links.size() + " up");
    }
    if (linksUp == links.size()) {
      List<Promise<Void>> waiting = new ArrayList<>(allUpWaiters);
      allUpWaiters.clear();
      waiting.forEach(Promise::tryComplete);
    }
    flush();
  }

  @Override
  public void linkDown(RedisLink link, String cause) {
    lastTrouble = System.nanoTime();
    lastCause = cause;
    linksUp--;
    if (metrics != null) {
      metrics.connectionLost();
    }
    if (linksUp == 0) {
      downSince = lastTrouble;
      log.warn("redis unreachable (" + cause + "): answering store_unavailable until it is back");
      failQueued(RedisFailures.unavailable("redis is unreachable: " + cause));
    } else {
      log.warn("redis connection " + link.index() + " lost (" + cause + "); " + linksUp + " of " + links.size() + " up");
      flush();
    }
  }

  @Override
  public void connectFailed(RedisLink link, String cause) {
    lastCause = cause; // no news for leases: health restarts only once every connection is back
  }

  @Override
  public void tripDone(RedisLink link) {
    if ((!writes.isEmpty() || !reads.isEmpty()) && !flushScheduled) {
      flush();
    }
  }

  @Override
  public void tripAnswered(long nanos) {
    if (metrics != null) {
      metrics.trip(nanos);
    }
  }

  @Override
  public void trouble(String cause) {
    lastTrouble = System.nanoTime();
  }

  private void failQueued(TokenbusException e) {
    List<Pending> all = new ArrayList<>(writes.size() + reads.size());
    all.addAll(writes);
    all.addAll(reads);
    writes.clear();
    reads.clear();
    all.forEach(p -> p.promise().tryFail(e));
  }
}
