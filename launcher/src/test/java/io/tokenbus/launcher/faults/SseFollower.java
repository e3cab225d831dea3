package io.tokenbus.launcher.faults;

import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse.BodySubscribers;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Flow;

/**
 * Follows a job over Server-Sent Events ({@code GET /api/jobs/{id}/events}), as a browser's EventSource would, but
 * resuming on another gateway too: every (re)connection sends {@code Last-Event-ID: <contiguous prefix>}. Parses
 * {@code id:}/{@code event:}/{@code data:} lines; comments ({@code : keep-alive}) count as activity only. An
 * {@code event:} that is neither a chunk, progress nor terminal is an error event: its code ({@code data.error} or
 * {@code data.error.code} or {@code data.code}) ends the follow unless retryable. An HTTP answer other than 200 ends
 * it too (410 → {@code history_lost}), except 429/5xx, which are retried after {@link Options#retryMs}. A stream that
 * ends cleanly after a {@code retry:} field sent mid-stream (a draining gateway's) is reconnected after that delay,
 * as EventSource does.
 */
public final class SseFollower extends JobFollower {
  static final Set<String> RETRYABLE = Set.of("store_unavailable", "timeout", "overloaded", "rate_limited",
    "too_many_jobs", "no_worker", "internal");

  private final Map<Integer, Conn> conns = new ConcurrentHashMap<>();

  public SseFollower(Api.Job job, List<Integer> ports, Options options) {
    super("sse", job, ports, options);
  }

  public static SseFollower follow(Api.Job job, List<Integer> ports, Options options) {
    SseFollower f = new SseFollower(job, ports, options);
    f.start();
    return f;
  }

  @Override
  protected void open(int attempt, int port, long after) {
    Conn c = new Conn(attempt, port);
    conns.put(attempt, c);
    HttpRequest.Builder b = HttpRequest.newBuilder(Api.uri(port, "/api/jobs/" + job.jobId() + "/events?token=" + job.token()))
      .timeout(Duration.ofMillis(options.silenceMs())).header("accept", "text/event-stream");
    if (after > 0) {
      b.header("Last-Event-ID", String.valueOf(after));
    }
    c.cf = Api.STREAMS.sendAsync(b.build(), info -> {
      activity(attempt);
      if (info.statusCode() == 200) {
        c.headers = true;
        return BodySubscribers.fromLineSubscriber(c);
      }
      return BodySubscribers.mapping(BodySubscribers.ofString(StandardCharsets.UTF_8), body -> {
        httpError(c, info.statusCode(), body);
        return null;
      });
    });
    c.cf.whenComplete((r, e) -> {
      if (e != null) {
        ended(attempt, c.headers, "port " + port + ": " + e);
      }
    });
  }

  /**
   * Before the answer's headers the exchange is cancelled; once streaming, the body subscription is (after a short
   * grace: a stream the server is ending is left to end, so that its connection goes back to the pool intact; the JDK
   * 17 client closes whatever connection a cancelled exchange last used, even one reused meanwhile).
   */
  @Override
  protected void abort(int attempt) {
    Conn c = conns.remove(attempt);
    if (c == null) {
      return;
    }
    if (!c.headers) {
      if (c.cf != null) {
        c.cf.cancel(true);
      }
      return;
    }
    Api.TIMERS.schedule(() -> {
      Flow.Subscription s = c.subscription;
      if (!c.completed && s != null) {
        s.cancel();
      }
    }, log.done().isDone() ? 2000 : 0, java.util.concurrent.TimeUnit.MILLISECONDS);
  }

  private void httpError(Conn c, int status, String body) {
    String code = "http_" + status;
    try {
      JsonObject j = new JsonObject(body);
      if (j.getValue("error") instanceof String s) {
        code = s;
      }
    } catch (DecodeException | ClassCastException ignored) {
      // not JSON: keep the status
    }
    if (status == 429 || status >= 500) {
      ended(c.attempt, true, "port " + c.port + " answered " + status + " " + body);
    } else if (current(c.attempt)) {
      log.fail(code, "HTTP " + status + " " + body + " from port " + c.port);
    }
  }

  private void line(Conn c, String line) {
    activity(c.attempt);
    if (!current(c.attempt)) {
      return;
    }
    if (line.isEmpty()) {
      dispatch(c);
      return;
    }
    if (line.startsWith(":")) {
      return;
    }
    int colon = line.indexOf(':');
    String field = colon < 0 ? line : line.substring(0, colon);
    String value = colon < 0 ? "" : line.substring(colon + 1);
    if (value.startsWith(" ")) {
      value = value.substring(1);
    }
    switch (field) {
      case "id" -> c.id = value;
      case "event" -> c.event = value;
      case "data" -> {
        if (c.data.length() > 0 || c.hasData) {
          c.data.append('\n');
        }
        c.data.append(value);
        c.hasData = true;
      }
      case "retry" -> {
        try {
          c.retryMs = Long.parseLong(value.trim());
          c.retries++;
        } catch (NumberFormatException ignored) {
          // EventSource ignores a retry that is not a number
        }
      }
      default -> { } // unknown fields
    }
  }

  private void dispatch(Conn c) {
    String type = c.event == null ? "message" : c.event;
    String data = c.data.toString();
    boolean any = c.hasData || c.event != null;
    c.event = null;
    c.id = null;
    c.data.setLength(0);
    c.hasData = false;
    if (!any) {
      return;
    }
    JsonObject json;
    try {
      json = data.isEmpty() ? new JsonObject() : new JsonObject(data);
    } catch (DecodeException e) {
      log.transientError("unparseable " + type + " data: " + data);
      return;
    }
    switch (type) {
      case "model:chunk" -> {
        delivered(c.attempt);
        log.chunk(json.getLong("sequence"), json.getString("chunk"));
      }
      case "job:progress" -> { }
      case "job:completed", "job:failed", "job:cancelled" -> {
        delivered(c.attempt);
        log.terminal(json);
      }
      default -> {
        String code = codeOf(json);
        if (code != null && RETRYABLE.contains(code)) {
          ended(c.attempt, true, "event " + type + " " + data);
        } else {
          log.fail(code == null ? type : code, "event: " + type + " data: " + data + " from port " + c.port);
        }
      }
    }
  }

  static String codeOf(JsonObject j) {
    Object e = j.getValue("error");
    if (e instanceof String s) {
      return s;
    }
    if (e instanceof JsonObject o && o.getValue("code") instanceof String s) {
      return s;
    }
    return j.getValue("code") instanceof String s ? s : null;
  }

  private final class Conn implements Flow.Subscriber<String> {
    final int attempt;
    final int port;
    volatile Flow.Subscription subscription;
    volatile CompletableFuture<?> cf;
    volatile boolean headers;
    volatile boolean completed;
    /** Last {@code retry:} value and how many came: the first is sent when the stream opens. */
    volatile long retryMs = -1;
    volatile int retries;
    String id;
    String event;
    final StringBuilder data = new StringBuilder();
    boolean hasData;

    Conn(int attempt, int port) {
      this.attempt = attempt;
      this.port = port;
    }

    @Override
    public void onSubscribe(Flow.Subscription s) {
      subscription = s;
      if (!current(attempt)) {
        s.cancel();
        return;
      }
      s.request(Long.MAX_VALUE);
    }

    @Override
    public void onNext(String item) {
      synchronized (SseFollower.this) {
        line(this, item);
      }
    }

    @Override
    public void onError(Throwable t) {
      completed = true;
      ended(attempt, true, "stream from port " + port + " failed: " + t);
    }

    @Override
    public void onComplete() {
      completed = true;
      if (retries > 1) {
        ended(attempt, true, "stream from port " + port + " ended cleanly after retry: " + retryMs, retryMs);
      } else {
        ended(attempt, true, "stream from port " + port + " ended without a terminal event");
      }
    }
  }
}
