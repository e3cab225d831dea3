package io.tokenbus.gateway.stream;

import io.tokenbus.events.Addresses;
import io.tokenbus.events.ChunkEvent;
import io.tokenbus.events.Priority;
import io.tokenbus.events.ProgressEvent;
import io.tokenbus.events.StatusEvent;
import io.tokenbus.events.internal.JobSnapshot;
import io.vertx.core.Future;
import io.vertx.core.eventbus.MessageConsumer;
import java.util.ArrayList;
import java.util.List;

/**
 * This node's single subscription to one job ({@code job.<id>.chunk|progress|status}), fanned out to every local
 * follower, so browser churn never turns into cluster-wide registration churn. Event-loop confined.
 *
 * <p>A feed (a background job's first) can be detached while this node is overloaded ({@link JobStreamHub}): it
 * drops its subscription, so the bus queues nothing more for it here, and reads the job from the checkpoint store
 * instead, a page every {@link #DETACHED_POLL_MS}. Followers take those pages in order like any repair, so nothing
 * is lost; the stream just comes in bigger, later steps. Reattached, live events resume and the gap between is read
 * back.
 */
final class JobFeed {
  /** How often a detached feed reads its job from the store. */
  static final long DETACHED_POLL_MS = 500;

  private final JobStreamHub hub;
  private final String jobId;
  private final List<Follower> followers = new ArrayList<>(1); // most jobs have one follower per node
  private final List<MessageConsumer<?>> consumers = new ArrayList<>(3);
  private boolean background;
  /** The smallest age (ms, by the worker's clock) a live chunk of this job had on arrival: the base of its lateness. */
  private long youngestArrival = Long.MAX_VALUE;
  private boolean detached;
  private long detachedTimer = -1;
  private long lastEventAt = System.nanoTime();
  private long lastSequence;
  private boolean terminal;
  private boolean polling;
  private Future<Void> registered = Future.succeededFuture();

  JobFeed(JobStreamHub hub, String jobId, boolean background, boolean detached) {
    this.hub = hub;
    this.jobId = jobId;
    this.background = background;
    if (detached) {
      detach();
    } else {
      subscribe();
    }
  }

  private void subscribe() {
    var eb = hub.vertx().eventBus();
    consumers.add(eb.<ChunkEvent>consumer(Addresses.chunk(jobId), m -> onChunk(m.body(), false)));
    consumers.add(eb.<ProgressEvent>consumer(Addresses.progress(jobId), m -> dispatch(new FeedEvent(m.body()))));
    consumers.add(eb.<StatusEvent>consumer(Addresses.status(jobId), m -> onStatus(m.body())));
    registered = Future.all(consumers.stream().map(MessageConsumer::completion).toList()).mapEmpty();
  }

  boolean background() {
    return background;
  }

  boolean detached() {
    return detached;
  }

  /** Stops live delivery for this job on this node and reads it from the store instead (see the class comment). */
  void detach() {
    if (detached || terminal) {
      return;
    }
    detached = true;
    consumers.forEach(MessageConsumer::unregister);
    consumers.clear();
    // Spread over the period, so thousands of detached feeds do not read the store in the same instant.
    scheduleRead(1 + (long) (Math.random() * DETACHED_POLL_MS));
  }

  /** Live again; once the subscription is registered, the store is read for what came in between. */
  void attach() {
    if (!detached) {
      return;
    }
    detached = false;
    if (detachedTimer >= 0) {
      hub.vertx().cancelTimer(detachedTimer);
      detachedTimer = -1;
    }
    if (!terminal && !followers.isEmpty()) {
      subscribe();
      registered.onComplete(ar -> readStore(false));
    }
  }

  private void scheduleRead(long delayMs) {
    detachedTimer = hub.vertx().setTimer(delayMs, id -> {
      detachedTimer = -1;
      readStore(false).onComplete(ar -> {
        if (detached && !terminal && !followers.isEmpty() && detachedTimer < 0) {
          scheduleRead(DETACHED_POLL_MS);
        }
      });
    });
  }

  String jobId() {
    return jobId;
  }

  /** Completes once this node's subscription is registered cluster-wide; nothing waits for it but tests. */
  Future<Void> registered() {
    return registered;
  }

  io.vertx.core.Vertx vertx() {
    return hub.vertx();
  }

  Future<JobSnapshot> read(long after) {
    return hub.jobs().read(jobId, after, hub.config().replayPageSize()).andThen(ar -> {
      if (ar.succeeded()) {
        learn(ar.result().priority());
      }
    });
  }

  /** A background job submitted through another gateway: the store tells at the first read (every stream makes one). */
  private void learn(Priority p) {
    if (p == Priority.BACKGROUND && !background) {
      background = true;
      hub.jobs().rememberBackground(jobId);
      if (hub.detached(true)) {
        detach();
      }
    }
  }

  Follower join(StreamSink sink) {
    Follower f = new Follower(this, sink, hub.config().maxPendingPerStream());
    followers.add(f);
    return f;
  }

  void leave(Follower f) {
    followers.remove(f);
    if (followers.isEmpty()) {
      consumers.forEach(MessageConsumer::unregister);
      consumers.clear();
      if (detachedTimer >= 0) {
        hub.vertx().cancelTimer(detachedTimer);
        detachedTimer = -1;
      }
      hub.remove(this);
    }
  }

  int followers() {
    return followers.size();
  }

  int followers(String transport) {
    int n = 0;
    for (Follower f : followers) {
      n += transport.equals(f.transport()) ? 1 : 0;
    }
    return n;
  }

  io.tokenbus.gateway.GatewayMetrics metrics() {
    return hub.metrics();
  }

  private void onChunk(ChunkEvent c, boolean repair) {
    if (c.sequence() > lastSequence) {
      lastSequence = c.sequence();
    }
    if (!repair && !background) {
      long age = System.currentTimeMillis() - c.timestamp();
      youngestArrival = Math.min(youngestArrival, age);
      hub.lateness().arrived(age - youngestArrival, System.nanoTime());
    }
    dispatch(new FeedEvent(c, repair, background));
  }

  private void onStatus(StatusEvent s) {
    terminal = true;
    dispatch(new FeedEvent(s));
  }

  private void dispatch(FeedEvent e) {
    lastEventAt = System.nanoTime();
    if (background) {
      hub.deferBackground(this, e); // after what the loop has waiting: interactive chunks go first
    } else {
      deliver(e);
    }
  }

  /** Hands {@code e} to this node's followers of the job now. */
  void deliver(FeedEvent e) {
    // Copy: a follower may leave (abort) while we iterate.
    for (Follower f : followers.toArray(new Follower[0])) {
      f.onLive(e);
    }
  }

  /**
   * The bus is best-effort (a registration still propagating, a node that died): when a running job has been silent
   * for the idle period, ask the store and feed whatever the bus did not bring as if it were live.
   */
  Future<Void> pollIfIdle(long idleNanos) {
    if (detached || System.nanoTime() - lastEventAt < idleNanos) {
      return Future.succeededFuture();
    }
    return readStore(true);
  }

  /** Reads what the store holds after the last sequence seen and feeds it to the followers, in order. */
  private Future<Void> readStore(boolean idle) {
    if (terminal || polling) {
      return Future.succeededFuture();
    }
    polling = true;
    long after = lastSequence;
    return read(after).onComplete(ar -> {
      polling = false;
      lastEventAt = System.nanoTime();
      if (ar.failed() || followers.isEmpty()) {
        return;
      }
      JobSnapshot s = ar.result();
      if (!s.chunks().isEmpty() && idle) {
        hub.metrics().gapRepair("idle_poll");
      }
      s.chunks().forEach(c -> onChunk(c, true));
      if (s.terminal() != null && !s.hasMore() && !terminal) {
        onStatus(s.terminal());
      }
    }).transform(ar -> Future.succeededFuture());
  }
}
