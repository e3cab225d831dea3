package io.tokenbus.gateway.sse;

import io.tokenbus.events.ChunkEvent;
import io.tokenbus.events.ErrorCode;
import io.tokenbus.events.JobIds;
import io.tokenbus.events.StatusEvent;
import io.tokenbus.events.StreamError;
import io.tokenbus.events.TokenbusException;
import io.tokenbus.gateway.GatewayConfig;
import io.tokenbus.gateway.GatewayMetrics;
import io.tokenbus.gateway.api.HttpErrors;
import io.tokenbus.gateway.api.JobsApi;
import io.tokenbus.gateway.auth.StreamTokens;
import io.tokenbus.gateway.drain.Drain;
import io.tokenbus.gateway.stream.FeedEvent;
import io.tokenbus.gateway.stream.Follower;
import io.tokenbus.gateway.stream.JobStreamHub;
import io.tokenbus.gateway.stream.StreamSink;
import io.tokenbus.gateway.stream.WriteBudget;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import java.util.List;
import java.util.function.IntSupplier;

/**
 * {@code GET /api/jobs/{id}/events}: replay after {@code Last-Event-ID} (or {@code ?after=}) from the checkpoint
 * store, then live, through a {@link Follower}; ends after the terminal event. When the node drains, a stream ends
 * with a {@code retry:} field instead (the client reconnects elsewhere with {@code Last-Event-ID}), and one still
 * waiting for its replay is answered 503 {@code draining}.
 */
public final class SseEndpoint {
  /** A chunk's frame between its id and its JSON. */
  private static final String CHUNK_EVENT_DATA = "\nevent: " + ChunkEvent.TYPE + "\ndata: ";

  private final Vertx vertx;
  private final GatewayConfig config;
  private final StreamTokens tokens;
  private final JobStreamHub hub;
  private final StreamCounter streams;
  private final Drain drain;

  public SseEndpoint(Vertx vertx, GatewayConfig config, StreamTokens tokens, JobStreamHub hub, StreamCounter streams,
                     Drain drain) {
    this.vertx = vertx;
    this.drain = drain;
    this.config = config;
    this.tokens = tokens;
    this.hub = hub;
    this.streams = streams;
  }

  public void mount(Router router) {
    router.get("/api/jobs/:id/events").handler(this::events);
  }

  private void events(RoutingContext ctx) {
    String jobId = ctx.pathParam("id");
    long after;
    try {
      if (!JobIds.valid(jobId)) {
        throw new TokenbusException(ErrorCode.NOT_FOUND, "no job " + jobId);
      }
      tokens.verify(jobId, JobsApi.token(ctx));
      String lastEventId = ctx.request().getHeader("last-event-id");
      after = lastEventId != null && !lastEventId.isBlank() ? JobsApi.longParam(lastEventId, "Last-Event-ID")
        : JobsApi.longParam(ctx.queryParams().get("after"), "after");
      if (!streams.tryOpen()) {
        throw new TokenbusException(ErrorCode.TOO_MANY_JOBS, "this gateway follows " + config.maxStreams() + " streams already");
      }
    } catch (TokenbusException e) {
      HttpErrors.fail(ctx, e);
      return;
    }
    Stream s = new Stream(ctx);
    Follower f = hub.follow(jobId, s);
    s.follower = f;
    f.want(true, true, true);
    f.holdUntilReplay(0);
    ctx.response().closeHandler(v -> s.closed());
    drain.add(s);
    // Straight from the store: the cluster registration of the job's feed may still be propagating (or held up by a
    // frozen member); live events merge in when it lands, and the idle check covers what it missed.
    f.replay(after).onComplete(ar -> {
      if (s.ended) {
        return;
      }
      if (ar.failed()) {
        s.closed();
        HttpErrors.fail(ctx, ar.cause());
        return;
      }
      HttpServerResponse r = ctx.response();
      r.setChunked(true).putHeader("content-type", "text/event-stream; charset=utf-8")
        .putHeader("cache-control", "no-cache").putHeader("x-accel-buffering", "no");
      s.write("retry: 1000\n\n");
      s.chunks(FeedEvent.stored(ar.result().chunks()));
      s.heartbeat = vertx.setPeriodic(config.sseHeartbeatMs(), id -> s.write(": keep-alive\n\n"));
      f.replayWritten(ar.result());
    });
  }

  /** Counts concurrent streams on this node against {@link GatewayConfig#maxStreams}. */
  public interface StreamCounter extends IntSupplier {
    boolean tryOpen();

    void closed();
  }

  private final class Stream implements StreamSink, Drain.Client {
    private final RoutingContext ctx;
    private final HttpServerResponse response;
    private Follower follower;
    private final WriteBudget budget = new WriteBudget(config.connections().maxQueuedBytesPerStream(), vertx,
      config.pingTimeoutMs(), () -> {
        hub.metrics().slowConsumer(GatewayMetrics.SSE, "stall");
        abort("client took nothing while history waited");
      });
    private long heartbeat = -1;
    private boolean ended;

    Stream(RoutingContext ctx) {
      this.ctx = ctx;
      this.response = ctx.response();
    }

    /**
     * The node drains. A stream under way gets {@code retry: <ms>} and ends cleanly, between two events: the client
     * reconnects after that delay with {@code Last-Event-ID} (EventSource does so by itself) and the load balancer
     * sends it to another gateway. A stream whose replay has not answered yet gets 503 {@code draining}.
     */
    @Override
    public void leave(long retryMs) {
      if (ended) {
        return;
      }
      if (!response.headWritten()) {
        closed();
        drain.refuse(ctx);
        return;
      }
      write("retry: " + retryMs + "\n\n");
      if (!ended) { // not dropped as a slow reader by that write
        response.end();
        closed();
      }
    }

    @Override
    public void chunk(FeedEvent e) {
      write(frame(new StringBuilder(e.json().length() + 48), e).toString());
      hub.metrics().chunkWritten(GatewayMetrics.SSE, e);
    }

    /**
     * A page of history in one write: per-event writes (and their futures) cost more than the bytes. Built as bytes
     * around each chunk's stored bytes: no chunk is decoded into a String and encoded again.
     */
    @Override
    public void chunks(List<FeedEvent> page) {
      if (page.isEmpty()) {
        return;
      }
      Buffer b = Buffer.buffer(page.size() * 300);
      for (FeedEvent e : page) {
        ChunkEvent c = (ChunkEvent) e.event();
        b.appendString("id: ").appendString(Long.toString(c.sequence())).appendString(CHUNK_EVENT_DATA)
          .appendBuffer(c.encodedBytes()).appendString("\n\n");
      }
      write(b);
      page.forEach(e -> hub.metrics().chunkWritten(GatewayMetrics.SSE, e));
    }

    private StringBuilder frame(StringBuilder b, FeedEvent e) {
      return b.append("id: ").append(((ChunkEvent) e.event()).sequence()).append(CHUNK_EVENT_DATA).append(e.json())
        .append("\n\n");
    }

    @Override
    public String transport() {
      return GatewayMetrics.SSE;
    }

    @Override
    public void progress(FeedEvent e) {
      write("event: job:progress\ndata: " + e.json() + "\n\n");
    }

    @Override
    public void status(FeedEvent e) {
      write("event: " + ((StatusEvent) e.event()).type() + "\ndata: " + e.json() + "\n\n");
      if (!ended) {
        response.end();
      }
      closed();
    }

    @Override
    public boolean writable() {
      return budget.writable();
    }

    @Override
    public void whenWritable(Runnable r) {
      budget.whenWritable(r);
    }

    @Override
    public void abort(String reason) {
      if (!ended) {
        response.reset();
      }
      closed();
    }

    @Override
    public void fail(TokenbusException e) {
      write("event: " + StreamError.TYPE + "\ndata: " + new StreamError(follower.jobId(), e.code(), e.getMessage()).toJson().encode() + "\n\n");
      if (!ended) {
        response.end();
      }
      closed();
    }

    void write(String frame) {
      if (admit()) {
        budget.track(frame.length(), response.write(frame));
      }
    }

    void write(Buffer frame) {
      if (admit()) {
        budget.track(frame.length(), response.write(frame));
      }
    }

    /** Whether a write may go: not after the end, and not to a client that stopped reading (dropped here). */
    private boolean admit() {
      if (ended) {
        return false;
      }
      if (budget.exceeded()) {
        hub.metrics().slowConsumer(GatewayMetrics.SSE, "write_budget");
        abort("client is not reading");
        return false;
      }
      return true;
    }

    void closed() {
      if (!ended) {
        ended = true;
        budget.close();
        if (heartbeat >= 0) {
          vertx.cancelTimer(heartbeat);
        }
        follower.close();
        streams.closed();
        drain.remove(this);
      }
    }
  }
}
