package io.tokenbus.launcher.faults;

import java.util.List;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * A client following one job on a list of gateways, recording into a {@link StreamLog}. It resumes on its own: when
 * the connection ends without a terminal event it connects again (the next gateway if the connection could not be
 * established), and when nothing at all arrived for {@link Options#silenceMs} it drops the connection and moves to
 * the next gateway, asking for the chunks after its contiguous prefix. It stops at the terminal event or at a final
 * error (4xx other than 429, or {@code history_lost} however it comes), or when closed.
 */
public abstract class JobFollower implements AutoCloseable {
  /**
   * @param silenceMs        nothing received for this long: the connection is given up and the next gateway tried
   * @param retryMs          wait before connecting again after a dropped stream or a retryable error (503, 504, 429)
   * @param replayDelayMs    bridge: wait between registering and sending {@code job.replay}
   * @param reconnectDelayMs wait before a resumption (a client that comes back later)
   */
  public record Options(long silenceMs, long retryMs, long replayDelayMs, long reconnectDelayMs) {
    public static Options defaults() {
      return new Options(30_000, 1000, 0, 0);
    }

    public Options silence(long ms) {
      return new Options(ms, retryMs, replayDelayMs, reconnectDelayMs);
    }

    public Options replayDelay(long ms) {
      return new Options(silenceMs, retryMs, ms, reconnectDelayMs);
    }

    public Options reconnectDelay(long ms) {
      return new Options(silenceMs, retryMs, replayDelayMs, ms);
    }
  }

  protected final Api.Job job;
  protected final List<Integer> ports;
  protected final Options options;
  protected final StreamLog log;
  private int attempts;
  private int live;
  private int portIndex;
  private volatile long lastActivityNanos = System.nanoTime();
  private long reconnectFromNanos;
  private boolean closed;
  private ScheduledFuture<?> watchdog;

  protected JobFollower(String kind, Api.Job job, List<Integer> ports, Options options) {
    this.job = job;
    this.ports = List.copyOf(ports);
    this.options = options;
    this.log = new StreamLog(kind + " " + job.jobId() + " via " + ports, job);
  }

  public StreamLog log() {
    return log;
  }

  public Api.Job job() {
    return job;
  }

  /** Connects to the first gateway of the list. */
  public final JobFollower start() {
    watchdog = Api.TIMERS.scheduleAtFixedRate(this::checkSilence, 250, 250, TimeUnit.MILLISECONDS);
    connectNow();
    log.done().whenCompleteAsync((v, e) -> finish(), Api.EXECUTOR);
    return this;
  }

  private void connectNow() {
    int attempt;
    int port;
    long after;
    synchronized (this) {
      if (closed || log.done().isDone()) {
        return;
      }
      attempt = live = ++attempts;
      port = ports.get(portIndex % ports.size());
      after = log.prefix();
      log.beginConnection(after);
      lastActivityNanos = System.nanoTime();
    }
    open(attempt, port, after);
  }

  /** Opens connection number {@code attempt} to {@code port}, resuming after {@code after}. */
  protected abstract void open(int attempt, int port, long after);

  /** Drops connection {@code attempt} (whatever state it is in). */
  protected abstract void abort(int attempt);

  protected final synchronized boolean current(int attempt) {
    return attempt == live && !closed && !log.done().isDone();
  }

  /** Anything (a line, a frame, a keep-alive) arrived on {@code attempt}. */
  protected final void activity(int attempt) {
    if (attempt == live) {
      lastActivityNanos = System.nanoTime();
    }
  }

  /** Data for the client (a chunk, a terminal, a replay answer) arrived on {@code attempt}: a resumption is done. */
  protected final synchronized void delivered(int attempt) {
    if (attempt == live && reconnectFromNanos != 0) {
      log.resumed((System.nanoTime() - reconnectFromNanos) / 1_000_000);
      reconnectFromNanos = 0;
    }
  }

  /**
   * Connection {@code attempt} ended or failed without a terminal event. {@code established}: it had been opened (a
   * dropped stream: the same gateway is tried again after {@link Options#retryMs}); otherwise the next gateway is
   * tried right away.
   */
  protected final void ended(int attempt, boolean established, String why) {
    ended(attempt, established, why, options.retryMs());
  }

  /** As {@link #ended(int, boolean, String)}, waiting {@code retryMs} (what the server asked for) before trying again. */
  protected final void ended(int attempt, boolean established, String why, long retryMs) {
    long delay;
    synchronized (this) {
      if (!current(attempt)) {
        return;
      }
      live = 0;
      log.transientError(why);
      if (reconnectFromNanos == 0) {
        reconnectFromNanos = System.nanoTime();
      }
      if (!established) {
        portIndex++;
      }
      delay = (established ? retryMs : 200) + options.reconnectDelayMs();
    }
    abort(attempt);
    Api.TIMERS.schedule(this::connectNow, delay, TimeUnit.MILLISECONDS);
  }

  private void checkSilence() {
    int attempt;
    synchronized (this) {
      if (live == 0 || closed || log.done().isDone()
        || System.nanoTime() - lastActivityNanos < TimeUnit.MILLISECONDS.toNanos(options.silenceMs())) {
        return;
      }
      attempt = live;
      live = 0;
      log.transientError("silent for " + options.silenceMs() + " ms on port " + ports.get(portIndex % ports.size()));
      if (reconnectFromNanos == 0) {
        reconnectFromNanos = System.nanoTime();
      }
      portIndex++;
    }
    abort(attempt);
    if (options.reconnectDelayMs() > 0) {
      Api.TIMERS.schedule(this::connectNow, options.reconnectDelayMs(), TimeUnit.MILLISECONDS);
    } else {
      connectNow();
    }
  }

  private void finish() {
    int attempt;
    synchronized (this) {
      attempt = live;
      live = 0;
      if (watchdog != null) {
        watchdog.cancel(false);
      }
    }
    if (attempt != 0) {
      abort(attempt);
    }
  }

  /** Stops following (no more reconnects); what was recorded stays. */
  @Override
  public void close() {
    synchronized (this) {
      closed = true;
    }
    finish();
  }
}
