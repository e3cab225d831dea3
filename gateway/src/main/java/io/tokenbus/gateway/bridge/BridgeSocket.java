package io.tokenbus.gateway.bridge;

import io.tokenbus.events.Addresses;
import io.tokenbus.events.ErrorCode;
import io.tokenbus.events.Json;
import io.tokenbus.events.JobRequest;
import io.tokenbus.events.TokenbusException;
import io.tokenbus.events.internal.JobSnapshot;
import io.tokenbus.gateway.GatewayConfig;
import io.tokenbus.gateway.GatewayMetrics;
import io.tokenbus.gateway.api.RateLimiter;
import io.tokenbus.gateway.drain.Drain;
import io.tokenbus.gateway.jobs.JobService;
import io.tokenbus.gateway.stream.FeedEvent;
import io.tokenbus.gateway.stream.Follower;
import io.tokenbus.gateway.stream.JobStreamHub;
import io.tokenbus.gateway.stream.StreamSink;
import io.tokenbus.gateway.stream.WriteBudget;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.handler.sockjs.SockJSSocket;
import java.util.HashMap;
import java.util.Map;
import java.util.regex.Matcher;

/** One browser connection speaking the event-bus bridge protocol. Event-loop confined. */
final class BridgeSocket implements Drain.Client {
  /** WebSocket "going away": the server is shutting down (raw websocket only; SockJS framing always sends 3000). */
  static final int CLOSE_GOING_AWAY = 1001;

  private static final int MAX_REPLY_ADDRESS = 36;

  private final SockJSSocket sock;
  private final String client;
  private final GatewayConfig config;
  private final JobService jobs;
  private final JobStreamHub hub;
  private final RateLimiter submits;
  private final EventBusBridge bridge;
  private final Map<String, Follower> follows = new HashMap<>();
  private final WriteBudget budget;
  private long lastPing = System.currentTimeMillis();
  private int requestsInFlight;
  private boolean closed;

  BridgeSocket(SockJSSocket sock, String client, GatewayConfig config, JobService jobs, JobStreamHub hub, RateLimiter submits,
               EventBusBridge bridge) {
    this.sock = sock;
    this.client = client;
    this.config = config;
    this.jobs = jobs;
    this.hub = hub;
    this.submits = submits;
    this.bridge = bridge;
    this.budget = new WriteBudget(config.connections().maxQueuedBytesPerStream(), hub.vertx(), config.pingTimeoutMs(), () -> {
      hub.metrics().slowConsumer(GatewayMetrics.BRIDGE, "stall");
      sock.close();
      cleanup();
    });
  }

  void start() {
    sock.handler(this::frame);
    sock.endHandler(v -> cleanup());
    sock.exceptionHandler(e -> cleanup());
  }

  void refuse(String message) {
    sendAndClose(Frames.err(null, new TokenbusException(ErrorCode.TOO_MANY_JOBS, message)));
  }

  /**
   * Closes once the frame is out (a SockJS session drops what is still queued when it closes), or after a second if
   * the client does not read it.
   */
  void sendAndClose(Buffer frame) {
    sock.write(frame).onComplete(ar -> sock.close());
    hub.vertx().setTimer(1000, id -> sock.close());
  }

  /**
   * The node drains: an address-less {@code err} 503 {@code draining} tells the client why, then the socket closes.
   * The client reconnects (the load balancer picks another gateway), registers again and replays after its last
   * sequence. The delay is the client's own: SockJS has no field to carry one.
   */
  @Override
  public void leave(long retryMs) {
    if (closed) {
      return;
    }
    cleanup();
    // Closed once the frame is out: a SockJS session drops what is still queued for it when it closes, and a write
    // from another context than the transport's is queued. A client that reads nothing is cut at the deadline.
    sock.write(Frames.err(null, new TokenbusException(ErrorCode.DRAINING,
      "this gateway is shutting down; reconnect and replay after your last sequence")))
      .onComplete(ar -> sock.close(CLOSE_GOING_AWAY, "draining"));
  }

  void closeIfSilentSince(long cutoff) {
    if (lastPing < cutoff) {
      sock.close();
      cleanup();
    }
  }

  private void cleanup() {
    if (!closed) {
      closed = true;
      budget.close();
      follows.values().forEach(Follower::close);
      follows.clear();
      bridge.closed(this);
    }
  }

  private void frame(Buffer data) {
    if (closed) {
      return; // frames still in flight after we closed the socket must not follow jobs nobody will release
    }
    JsonObject msg;
    try {
      msg = new JsonObject(data);
    } catch (DecodeException | ClassCastException e) {
      write(Frames.err("invalid_json"));
      return;
    }
    Object type = msg.getValue("type");
    if ("ping".equals(type)) {
      lastPing = System.currentTimeMillis();
      return;
    }
    if (!(type instanceof String)) {
      write(Frames.err("missing_type"));
      return;
    }
    Object address = msg.getValue("address");
    if (!(address instanceof String addr)) {
      write(Frames.err("missing_address"));
      return;
    }
    Object headers = msg.getValue("headers");
    switch ((String) type) {
      case "register" -> register(addr, headers instanceof JsonObject h ? h : new JsonObject());
      case "unregister" -> unregister(addr);
      case "send" -> send(addr, msg.getValue("body"), msg.getValue("replyAddress"));
      case "publish" -> write(Frames.err("access_denied"));
      default -> write(Frames.err("invalid_type"));
    }
  }

  private void register(String address, JsonObject headers) {
    Matcher m = Addresses.JOB_OUTBOUND.matcher(address);
    if (!m.matches()) {
      hub.metrics().registrationRefused(ErrorCode.FORBIDDEN);
      write(Frames.err(address, new TokenbusException(ErrorCode.FORBIDDEN, "registration for " + address + " is not permitted")));
      return;
    }
    String jobId = m.group(1);
    try {
      jobs.tokens().verify(jobId, headers.getValue("token") instanceof String t ? t : null);
      if (!follows.containsKey(jobId) && follows.size() >= config.maxSubscriptionsPerSocket()) {
        throw new TokenbusException(ErrorCode.TOO_MANY_JOBS, "a socket may follow at most " + config.maxSubscriptionsPerSocket() + " jobs");
      }
    } catch (TokenbusException e) {
      hub.metrics().registrationRefused(e.code());
      write(Frames.err(address, e));
      return;
    }
    Follower f = follows.computeIfAbsent(jobId, id -> {
      Follower nf = hub.follow(id, new Sink(id));
      nf.holdUntilReplay(config.connections().bridgeReplayGraceMs());
      return nf;
    });
    bridge.registered(this);
    String kind = m.group(2);
    f.want(f.wantsChunks() || kind.equals(Addresses.CHUNK_SUFFIX), f.wantsProgress() || kind.equals(Addresses.PROGRESS_SUFFIX),
      f.wantsStatus() || kind.equals(Addresses.STATUS_SUFFIX));
  }

  private void unregister(String address) {
    Matcher m = Addresses.JOB_OUTBOUND.matcher(address);
    Follower f = m.matches() ? follows.get(m.group(1)) : null;
    if (f == null) {
      return;
    }
    String kind = m.group(2);
    f.want(f.wantsChunks() && !kind.equals(Addresses.CHUNK_SUFFIX), f.wantsProgress() && !kind.equals(Addresses.PROGRESS_SUFFIX),
      f.wantsStatus() && !kind.equals(Addresses.STATUS_SUFFIX));
    if (f.wantsNothing()) {
      f.close();
      follows.remove(m.group(1));
    }
  }

  private void send(String address, Object body, Object replyAddressValue) {
    if (!(replyAddressValue instanceof String replyAddress) || replyAddress.isEmpty() || replyAddress.length() > MAX_REPLY_ADDRESS) {
      // The contract only permits request/reply; a fire-and-forget send has nowhere to report to but onerror.
      write(Frames.err("access_denied"));
      return;
    }
    if (requestsInFlight >= config.connections().maxRequestsPerSocket()) {
      hub.metrics().answered(GatewayMetrics.BRIDGE, ErrorCode.RATE_LIMITED);
      write(Frames.err(replyAddress, new TokenbusException(ErrorCode.RATE_LIMITED,
        "this socket has " + requestsInFlight + " requests waiting for an answer; wait for them")));
      return;
    }
    Future<?> result;
    try {
      JsonObject json = body instanceof JsonObject j ? j : null;
      if (json == null) {
        throw TokenbusException.invalid("body must be a JSON object");
      }
      result = switch (address) {
        case Addresses.JOBS_SUBMIT -> submit(json);
        case Addresses.JOB_REPLAY -> replay(json);
        case Addresses.JOB_CANCEL -> jobs.cancel(Json.requiredString(json, "jobId"), Json.string(json, "token"))
          .map(s -> new JsonObject().put("ok", true));
        default -> throw new TokenbusException(ErrorCode.FORBIDDEN, "sending to " + address + " is not permitted");
      };
    } catch (TokenbusException e) {
      hub.metrics().answered(GatewayMetrics.BRIDGE, e);
      write(Frames.err(replyAddress, e));
      return;
    }
    requestsInFlight++;
    result.onComplete(ar -> {
      requestsInFlight--;
      if (ar.failed()) {
        hub.metrics().answered(GatewayMetrics.BRIDGE, TokenbusException.from(ar.cause()));
        write(Frames.err(replyAddress, TokenbusException.from(ar.cause())));
      } else if (ar.result() instanceof ReplayAnswer ra) {
        write(Frames.rec(replyAddress, ra.snapshot.replayJsonBytes()));
        if (ra.follower != null) {
          ra.follower.replayWritten(ra.snapshot);
        }
      } else {
        write(Frames.reply(replyAddress, (JsonObject) ar.result()));
      }
    });
  }

  private Future<JsonObject> submit(JsonObject body) {
    if (!submits.tryAcquire(client)) {
      throw new TokenbusException(ErrorCode.RATE_LIMITED, "too many submissions from this client; try again shortly");
    }
    return jobs.submit(JobRequest.fromJson(body));
  }

  private record ReplayAnswer(JobSnapshot snapshot, Follower follower) {}

  /**
   * On a socket that registered for the job, the replay goes through its follower: the answer holds exactly the
   * chunks not delivered live, and live delivery continues after it without gap or duplicate.
   */
  private Future<ReplayAnswer> replay(JsonObject body) {
    String jobId = Json.requiredString(body, "jobId");
    String token = Json.string(body, "token");
    long after = Json.longValue(body, "afterSequence", 0);
    if (after < 0) {
      throw TokenbusException.invalid("afterSequence must be >= 0");
    }
    Follower f = follows.get(jobId);
    if (f == null) {
      return jobs.authorizedRead(jobId, token, after, config.replayPageSize()).map(s -> new ReplayAnswer(s, null));
    }
    jobs.tokens().verify(jobId, token);
    // Straight from the store, not waiting for the feed's cluster registration (see SseEndpoint).
    return f.replay(after).map(s -> new ReplayAnswer(s, f));
  }

  private void write(Buffer frame) {
    if (closed) {
      return;
    }
    if (budget.exceeded()) {
      // A client that does not read would grow memory without bound: drop it; it resumes by replay.
      hub.metrics().slowConsumer(GatewayMetrics.BRIDGE, "write_budget");
      sock.close();
      cleanup();
      return;
    }
    budget.track(frame.length(), sock.write(frame));
  }

  /** Delivers one followed job's events to this socket under the job's addresses. */
  private final class Sink implements StreamSink {
    private final String chunkAddress;
    private final String progressAddress;
    private final String statusAddress;
    private final String jobId;

    Sink(String jobId) {
      this.jobId = jobId;
      chunkAddress = Addresses.chunk(jobId);
      progressAddress = Addresses.progress(jobId);
      statusAddress = Addresses.status(jobId);
    }

    @Override
    public void chunk(FeedEvent e) {
      write(Frames.rec(chunkAddress, e.json()));
      hub.metrics().chunkWritten(GatewayMetrics.BRIDGE, e);
    }

    @Override
    public String transport() {
      return GatewayMetrics.BRIDGE;
    }

    @Override
    public void progress(FeedEvent e) {
      write(Frames.rec(progressAddress, e.json()));
    }

    @Override
    public void status(FeedEvent e) {
      write(Frames.rec(statusAddress, e.json()));
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
      sock.close();
      cleanup();
    }

    @Override
    public void fail(TokenbusException e) {
      // On the chunk address, so the stock client hands it to that registration's callback.
      write(Frames.err(chunkAddress, e));
      follows.remove(jobId);
    }

    @Override
    public void finished() {
      // The job is over and delivered: free the registration's follower (the socket may follow other jobs).
      follows.remove(jobId);
    }
  }
}
