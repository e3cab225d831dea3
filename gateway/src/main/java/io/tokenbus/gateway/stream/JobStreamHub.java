package io.tokenbus.gateway.stream;

import io.tokenbus.gateway.GatewayConfig;
import io.tokenbus.gateway.GatewayMetrics;
import io.tokenbus.gateway.jobs.JobService;
import io.vertx.core.Vertx;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** The feeds of the jobs followed on this node, and the idle check that repairs what the bus lost. */
public final class JobStreamHub {
  private final Vertx vertx;
  private final GatewayConfig config;
  private final JobService jobs;
  private final Map<String, JobFeed> feeds = new HashMap<>();
  private final long pollTimer;
  private final GatewayMetrics metrics;

  public JobStreamHub(Vertx vertx, GatewayConfig config, JobService jobs) {
    this(vertx, config, jobs, GatewayMetrics.none());
  }

  public JobStreamHub(Vertx vertx, GatewayConfig config, JobService jobs, GatewayMetrics metrics) {
    this.metrics = metrics;
    this.vertx = vertx;
    this.config = config;
    this.jobs = jobs;
    long idleNanos = TimeUnit.MILLISECONDS.toNanos(config.idlePollMs());
    this.pollTimer = vertx.setPeriodic(Math.max(10, config.idlePollMs() / 2),
      id -> List.copyOf(feeds.values()).forEach(f -> f.pollIfIdle(idleNanos)));
  }

  /** A new follower of {@code jobId} delivering to {@code sink}; it receives nothing until told what it wants. */
  public Follower follow(String jobId, StreamSink sink) {
    return feeds.computeIfAbsent(jobId, id -> new JobFeed(this, id)).join(sink);
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
