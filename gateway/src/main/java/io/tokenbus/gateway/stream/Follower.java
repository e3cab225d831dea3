package io.tokenbus.gateway.stream;

import io.tokenbus.events.ChunkEvent;
import io.tokenbus.events.StatusEvent;
import io.tokenbus.events.internal.JobSnapshot;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

/**
 * One client following one job: merges replay from the checkpoint store with live events so that every chunk reaches
 * the client exactly once, in order, with no gap.
 *
 * <p>The client has every chunk up to {@code prefix} (what it asked to replay after, plus what replays returned; -1
 * before any replay) and, before the first replay, a contiguous live range {@code [lo, hi]}. A live chunk beyond the
 * next expected sequence means the bus lost or has not yet delivered some: they are read back from the store (which
 * holds every chunk before it is published) while later live events wait in a bounded queue. Event-loop confined.
 */
public final class Follower {
  private final JobFeed feed;
  private final StreamSink sink;
  private final int maxPending;
  private final ArrayDeque<FeedEvent> pending = new ArrayDeque<>();
  private boolean wantsChunks;
  private boolean wantsProgress;
  private boolean wantsStatus;
  private long prefix = -1;
  private long lo;
  private long hi;
  private boolean busy;
  private boolean replaying;
  private boolean statusDelivered;
  private boolean closed;

  Follower(JobFeed feed, StreamSink sink, int maxPending) {
    this.feed = feed;
    this.sink = sink;
    this.maxPending = maxPending;
  }

  public String jobId() {
    return feed.jobId();
  }

  /** Chooses which event kinds reach the sink (bridge registrations per address; SSE takes all). */
  public void want(boolean chunks, boolean progress, boolean status) {
    wantsChunks = chunks;
    wantsProgress = progress;
    wantsStatus = status;
  }

  public boolean wantsNothing() {
    return !wantsChunks && !wantsProgress && !wantsStatus;
  }

  public boolean wantsChunks() {
    return wantsChunks;
  }

  public boolean wantsProgress() {
    return wantsProgress;
  }

  public boolean wantsStatus() {
    return wantsStatus;
  }

  /** Resolves once this node's subscription to the job is registered cluster-wide. */
  public Future<Void> ready() {
    return feed.ready();
  }

  private long tail() {
    return lo > 0 ? hi : prefix;
  }

  void onLive(FeedEvent e) {
    if (closed) {
      return;
    }
    if (busy || !pending.isEmpty()) {
      if (pending.size() >= maxPending) {
        close();
        sink.abort("too many events waiting while the stream repairs a gap");
        return;
      }
      pending.add(e);
      return;
    }
    handle(e);
  }

  private void handle(FeedEvent e) {
    Object ev = e.event();
    if (ev instanceof ChunkEvent c) {
      if (!wantsChunks) {
        return;
      }
      long s = c.sequence();
      long t = tail();
      if (t < 0) {
        lo = hi = s;
        sink.chunk(e);
      } else if (s == t + 1) {
        advance(s);
        sink.chunk(e);
      } else if (s > t + 1) {
        fillThen(s - 1, e);
      }
    } else if (ev instanceof StatusEvent st) {
      if (!wantsStatus && !wantsChunks) {
        return;
      }
      if (wantsChunks && tail() >= 0 && tail() < st.lastSequence()) {
        fillThen(st.lastSequence(), e);
        return;
      }
      if (wantsStatus && !statusDelivered) {
        statusDelivered = true;
        sink.status(e);
      }
    } else if (wantsProgress) {
      sink.progress(e);
    }
  }

  private void advance(long s) {
    if (lo > 0) {
      hi = s;
    } else {
      prefix = s;
    }
  }

  /** Reads the missing chunks up to {@code target} from the store, delivers them, then {@code then}. */
  private void fillThen(long target, FeedEvent then) {
    busy = true;
    fill(target).onComplete(ar -> {
      if (closed) {
        return;
      }
      if (ar.failed()) {
        close();
        sink.abort("could not repair a gap: " + ar.cause().getMessage());
        return;
      }
      if (replaying) {
        pending.addFirst(then); // a replay started meanwhile: it decides what is still missing
        return;
      }
      busy = false;
      handle(then);
      drain();
    });
  }

  private Future<Void> fill(long target) {
    long from = tail();
    return feed.read(from).compose(s -> {
      for (ChunkEvent c : s.chunks()) {
        if (c.sequence() == tail() + 1 && c.sequence() <= target) {
          advance(c.sequence());
          sink.chunk(new FeedEvent(c));
        }
      }
      if (tail() < target && s.hasMore() && tail() > from) {
        return fill(target);
      }
      if (tail() < target) {
        // The store does not have them (expired or lost): skip rather than stall; the client sees the jump.
        advance(target);
      }
      return Future.succeededFuture();
    });
  }

  private void drain() {
    while (!busy && !closed && !pending.isEmpty()) {
      handle(pending.poll());
    }
  }

  /**
   * Replays after {@code after}: returns the chunks the client does not have yet (never one it got live), then
   * marks them delivered. The caller writes them, then calls {@link #replayWritten}. Live events wait meanwhile.
   */
  public Future<JobSnapshot> replay(long after) {
    if (replaying) {
      return Future.failedFuture(new IllegalStateException("a replay is already running on this stream"));
    }
    replaying = true;
    busy = true;
    Promise<JobSnapshot> p = Promise.promise();
    feed.read(after).onComplete(ar -> {
      if (ar.failed()) {
        replaying = false;
        busy = false;
        drain();
        p.fail(ar.cause());
        return;
      }
      JobSnapshot s = ar.result();
      List<ChunkEvent> fresh = new ArrayList<>(s.chunks().size());
      for (ChunkEvent c : s.chunks()) {
        if (!(lo > 0 && c.sequence() >= lo && c.sequence() <= hi)) {
          fresh.add(c);
        }
      }
      long last = s.chunks().isEmpty() ? Math.max(after, prefix) : s.chunks().get(s.chunks().size() - 1).sequence();
      if (lo == 0 || lo <= last + 1) {
        prefix = Math.max(last, lo > 0 ? hi : prefix);
        lo = hi = 0;
      } else {
        prefix = last;
      }
      p.complete(s.withChunks(fresh));
    });
    return p.future();
  }

  /** After the replay answer is written: delivers the terminal event if the job is over, then queued live events. */
  public void replayWritten(JobSnapshot s) {
    replaying = false;
    busy = false;
    if (closed) {
      return;
    }
    if (s.terminal() != null && !s.hasMore()) {
      pending.addFirst(new FeedEvent(s.terminal()));
    }
    drain();
  }

  /** Holds live events until the first replay (SSE: nothing may be written before the replayed history). */
  public void holdUntilReplay() {
    busy = true;
  }

  public boolean statusDelivered() {
    return statusDelivered;
  }

  /** Stops delivery and leaves the job's feed. Idempotent. */
  public void close() {
    if (!closed) {
      closed = true;
      pending.clear();
      feed.leave(this);
    }
  }
}
