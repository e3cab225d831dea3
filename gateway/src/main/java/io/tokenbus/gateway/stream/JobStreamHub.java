package io.tokenbus.gateway.stream;

import io.tokenbus.events.Addresses;
import io.tokenbus.events.internal.InteractiveLate;
import io.tokenbus.events.internal.WatchedJobs;
import io.tokenbus.gateway.GatewayConfig;
import io.tokenbus.gateway.GatewayMetrics;
import io.tokenbus.gateway.jobs.JobService;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.internal.logging.Logger;
import io.vertx.core.internal.logging.LoggerFactory;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Set;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The feeds of the jobs followed on this node, the idle check that repairs what the bus lost, and the bound on this
 * node's event-loop task queue: above {@code maxQueuedTasks} waiting tasks, background jobs' feeds detach from the bus
 * and read from the store ({@link JobFeed#detach}), interactive ones stay live; above twice that (background was not
 * enough), interactive feeds detach too, so memory stays bounded whatever the mix. Each level ends below a quarter of
 * its bound and the feeds reattach.
 *
 * <p>Live events of background feeds are written after what the event loop has waiting ({@link #deferBackground}), so
 * interactive chunks that came in behind a burst of background ones are written first.
 */
public final class JobStreamHub {
  private static final Logger log = LoggerFactory.getLogger(JobStreamHub.class);
  /** How often the event loop's queue is looked at. */
  static final long PRESSURE_CHECK_MS = 50;
  /** How often the jobs followed here are published to the workers ({@link WatchedJobs}); a list is valid for three. */
  static final long WATCH_PERIOD_MS = 1000;
  /** Background events written per event-loop task: about half a millisecond of SSE writes. */
  static final int BACKGROUND_SLICE = 16;

  private record Deferred(JobFeed feed, FeedEvent event) {}

  private final Vertx vertx;
  private final Context context;
  private final GatewayConfig config;
  private final JobService jobs;
  private final Map<String, JobFeed> feeds = new HashMap<>();
  private final long pollTimer;
  private final long watchTimer;
  private final String watcherId = java.util.UUID.randomUUID().toString();
  private final GatewayMetrics metrics;
  private final LoopPressure pressure;
  private final ArrivalLateness lateness;
  /** 0: all live; {@link LoopPressure#BACKGROUND}: background feeds read from the store; {@link LoopPressure#ALL}. */
  private int shedding;
  /** Background feeds' events waiting for their turn; counted as queued tasks, so shedding bounds it. */
  private final ArrayDeque<Deferred> backgroundLane = new ArrayDeque<>();
  private boolean backgroundTurnScheduled;

  public JobStreamHub(Vertx vertx, GatewayConfig config, JobService jobs) {
    this(vertx, config, jobs, GatewayMetrics.none());
  }

  public JobStreamHub(Vertx vertx, GatewayConfig config, JobService jobs, GatewayMetrics metrics) {
    this.metrics = metrics;
    this.vertx = vertx;
    this.context = vertx.getOrCreateContext();
    this.config = config;
    this.jobs = jobs;
    long idleNanos = TimeUnit.MILLISECONDS.toNanos(config.idlePollMs());
    this.pollTimer = vertx.setPeriodic(Math.max(10, config.idlePollMs() / 2),
      id -> List.copyOf(feeds.values()).forEach(f -> f.pollIfIdle(idleNanos)));
    this.pressure = new LoopPressure(vertx, PRESSURE_CHECK_MS, config.connections().maxQueuedTasks(), backgroundLane::size,
      this::shed);
    this.watchTimer = vertx.setPeriodic(WATCH_PERIOD_MS, id -> publishWatched());
    this.lateness = new ArrivalLateness(lateMs ->
      vertx.eventBus().publish(Addresses.GATEWAY_PRESSURE, new InteractiveLate(watcherId, lateMs)));
  }

  ArrivalLateness lateness() {
    return lateness;
  }

  /**
   * Tells the workers which jobs somebody follows here (those submitted as background excepted: they are background
   * anyway). Sent even when empty: a gateway that follows nothing says so.
   */
  void publishWatched() {
    Set<String> watched = new HashSet<>();
    for (String jobId : feeds.keySet()) {
      if (!jobs.background(jobId)) {
        watched.add(jobId);
      }
    }
    vertx.eventBus().publish(Addresses.JOBS_WATCHED, new WatchedJobs(watcherId, 3 * WATCH_PERIOD_MS, watched));
  }

  /** Package-private for tests, which cannot fill an event loop's queue deterministically. */
  void shed(int level) {
    if (level > shedding) {
      metrics.shedding(true);
    }
    shedding = level;
    log.info("event loop has " + pressure.queued() + " tasks waiting: "
      + (level == 0 ? "all streams are live" : level == LoopPressure.BACKGROUND
        ? "background streams read from the store" : "all streams read from the store"));
    for (JobFeed f : List.copyOf(feeds.values())) {
      if (detached(f.background())) {
        f.detach();
      } else {
        f.attach();
      }
    }
  }

  /** Whether a feed of this priority reads from the store now (this node sheds). */
  boolean detached(boolean background) {
    return shedding == LoopPressure.ALL || (background && shedding == LoopPressure.BACKGROUND);
  }

  boolean watchesQueue() {
    return pressure.watching();
  }

  /**
   * Delivers {@code e} of background {@code feed} once the event loop has run what it had waiting: a burst of
   * background bus messages costs an interactive chunk behind it their queueing here, not their writes (~20 µs each).
   * Written in slices of {@link #BACKGROUND_SLICE}, each a task of its own behind those queued meanwhile. All of a
   * background feed's events come this way, so each follower still gets them in order.
   */
  void deferBackground(JobFeed feed, FeedEvent e) {
    backgroundLane.add(new Deferred(feed, e));
    if (!backgroundTurnScheduled) {
      backgroundTurnScheduled = true;
      context.runOnContext(v -> backgroundTurn());
    }
  }

  private void backgroundTurn() {
    for (int i = 0; i < BACKGROUND_SLICE && !backgroundLane.isEmpty(); i++) {
      Deferred d = backgroundLane.poll();
      d.feed().deliver(d.event());
    }
    if (backgroundLane.isEmpty()) {
      backgroundTurnScheduled = false;
    } else {
      context.runOnContext(v -> backgroundTurn());
    }
  }

  /** Tasks waiting on this node's event loop at the last check, background events waiting their turn included. */
  public long queuedTasks() {
    return pressure.queued();
  }

  /** A new follower of {@code jobId} delivering to {@code sink}; it receives nothing until told what it wants. */
  public Follower follow(String jobId, StreamSink sink) {
    boolean background = jobs.background(jobId);
    return feeds.computeIfAbsent(jobId, id -> new JobFeed(this, id, background, detached(background))).join(sink);
  }

  public int followedJobs() {
    return feeds.size();
  }

  /** Followers on this node whose sink is of {@code transport} (counted at each scrape). */
  public int followers(String transport) {
    int n = 0;
    for (JobFeed f : feeds.values()) {
      n += f.followers(transport);
    }
    return n;
  }

  public GatewayMetrics metrics() {
    return metrics;
  }

  public void close() {
    vertx.cancelTimer(pollTimer);
    vertx.cancelTimer(watchTimer);
    pressure.close();
    backgroundLane.clear();
  }

  public Vertx vertx() {
    return vertx;
  }

  GatewayConfig config() {
    return config;
  }

  JobService jobs() {
    return jobs;
  }

  void remove(JobFeed f) {
    feeds.remove(f.jobId(), f);
  }
}
