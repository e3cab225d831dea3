package io.tokenbus.gateway.stream;

import io.tokenbus.events.ChunkEvent;
import io.tokenbus.events.ErrorCode;
import io.tokenbus.events.StatusEvent;
import io.tokenbus.events.TokenbusException;
import io.tokenbus.events.internal.JobSnapshot;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

/**
 * One client following one job: merges replay from the checkpoint store with live events so that every chunk reaches
 * the client exactly once, in order, and the terminal event only after all of its chunks.
 *
 * <p>What the client holds is {@code 1..prefix} (its own claim on replay plus what was delivered; -1 before any
 * replay) and, beyond a hole, a live window {@code [lo, hi]}. Every step that changes it — a live event, a replay, a
 * repair read from the store — runs one at a time from {@link #queue}, so no two of them race. The store holds every
 * chunk before it is published, so anything the bus lost or has not brought yet is read back from it, page by page
 * and only while the client keeps up ({@link StreamSink#writable()}). A range the store cannot prove complete ends the
 * stream with {@code history_lost} instead of a silent jump. Event-loop confined.
 */
public final class Follower {
  private record ReplayOp(long after, Promise<JobSnapshot> answer) {}

  private record CatchUpOp(long target) {}

  private final JobFeed feed;
  private final StreamSink sink;
  private final int maxPending;
  // Sized for an idle stream (most of them, at 20,000 per node): it grows when a client lags; the default 17 slots
  // were 56 bytes per follower for nothing.
  private final ArrayDeque<Object> queue = new ArrayDeque<>(2);
  private boolean wantsChunks;
  private boolean wantsProgress;
  private boolean wantsStatus;
  private long prefix = -1;
  private long lo;
  private long hi;
  private boolean busy;
  private boolean held;
  private long holdTimer = -1;
  private boolean replaying;
  private boolean closed;

  Follower(JobFeed feed, StreamSink sink, int maxPending) {
    this.feed = feed;
    this.sink = sink;
    this.maxPending = maxPending;
  }

  public String jobId() {
    return feed.jobId();
  }

  JobFeed feed() {
    return feed;
  }

  String transport() {
    return sink.transport();
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

  /**
   * Holds live events until the first replay says where the client stands, or at most {@code graceMs} (0: until the
   * replay), so a client that resumes elsewhere is never sent what it already has.
   */
  public void holdUntilReplay(long graceMs) {
    held = true;
    if (graceMs > 0) {
      holdTimer = feed.vertx().setTimer(graceMs, id -> {
        holdTimer = -1;
        held = false;
        pump();
      });
    }
  }

  void onLive(FeedEvent e) {
    if (closed) {
      return;
    }
    if (queue.size() >= maxPending) {
      feed.metrics().slowConsumer(sink.transport(), "pending");
      abort("too many events waiting while the stream catches up");
      return;
    }
    queue.add(e);
    pump();
  }

  /**
   * Replays after {@code after}: answers the stored chunks the client does not have yet (never one it got live), one
   * page; the caller writes the answer and then calls {@link #replayWritten}, after which the follower sends the rest
   * of the history itself, then live events. So the answer's {@code hasMore} is always false. A second replay while
   * one runs is a conflict (409).
   */
  public Future<JobSnapshot> replay(long after) {
    if (closed) {
      return Future.failedFuture(new TokenbusException(ErrorCode.CONFLICT, "this stream has ended"));
    }
    if (replaying) {
      return Future.failedFuture(new TokenbusException(ErrorCode.CONFLICT, "a replay is already running on this stream"));
    }
    replaying = true;
    releaseHold();
    Promise<JobSnapshot> p = Promise.promise();
    queue.addFirst(new ReplayOp(after, p));
    pump();
    return feed.metrics().replay(sink.transport(), p.future());
  }

  /** After the replay answer is written: continues with the rest of the history, the terminal, then live events. */
  public void replayWritten(JobSnapshot s) {
    replaying = false;
    if (closed) {
      return;
    }
    if (s.terminal() != null) {
      queue.addFirst(new FeedEvent(s.terminal()));
    } else if (wantsChunks) {
      queue.addFirst(new CatchUpOp(s.lastSequence()));
    }
    busy = false;
    pump();
  }

  /** Stops delivery and leaves the job's feed. Idempotent. */
  public void close() {
    if (!closed) {
      closed = true;
      queue.clear();
      releaseHold();
      feed.leave(this);
    }
  }

  private void releaseHold() {
    held = false;
    if (holdTimer >= 0) {
      feed.vertx().cancelTimer(holdTimer);
      holdTimer = -1;
    }
  }

  private void pump() {
    while (!busy && !held && !closed && !queue.isEmpty()) {
      Object op = queue.poll();
      if (op instanceof ReplayOp r) {
        runReplay(r);
      } else if (op instanceof CatchUpOp c) {
        step(catchUp(c.target()));
      } else {
        handle((FeedEvent) op);
      }
    }
  }

  /** Holds the queue until {@code f} completes; a failure ends the stream with its code. */
  private void step(Future<Void> f) {
    if (f.isComplete() && f.succeeded()) {
      return;
    }
    busy = true;
    f.onComplete(ar -> {
      busy = false;
      if (ar.failed()) {
        fail(TokenbusException.from(ar.cause()));
        return;
      }
      pump();
    });
  }

  private void handle(FeedEvent e) {
    Object ev = e.event();
    if (ev instanceof ChunkEvent c) {
      if (wantsChunks) {
        onChunk(e, c.sequence());
      }
    } else if (ev instanceof StatusEvent st) {
      if (wantsChunks || wantsStatus) {
        step(catchUp(wantsChunks ? st.lastSequence() : 0).onSuccess(v -> finish(e)));
      }
    } else if (wantsProgress) {
      sink.progress(e);
    }
  }

  private void onChunk(FeedEvent e, long s) {
    if (delivered(s)) {
      feed.metrics().duplicateSuppressed();
      return;
    }
    if (prefix < 0 && lo == 0) {
      if (!e.repair()) { // a store read found by the idle check says nothing about where this client stands
        lo = hi = s;
        sink.chunk(e);
      }
      return;
    }
    long t = tail();
    if (s == t + 1) {
      advance(s);
      sink.chunk(e);
    } else if (s > t + 1) {
      feed.metrics().gapRepair("gap");
      step(catchUp(s - 1).onSuccess(v -> onChunk(e, s)));
    } // else: inside the hole before the live window, which a catch-up fills in order
  }

  private void finish(FeedEvent status) {
    if (closed) {
      return;
    }
    if (wantsStatus) {
      sink.status(status); // at most once: the follower closes right after
    }
    close();
    sink.finished();
  }

  private boolean delivered(long s) {
    return s <= prefix || (lo > 0 && s >= lo && s <= hi);
  }

  private long tail() {
    return lo > 0 ? hi : prefix;
  }

  private void advance(long s) {
    if (lo > 0) {
      hi = s;
    } else {
      prefix = s;
    }
  }

  /** Merges the live window into the prefix once the hole between them is closed. */
  private void merge() {
    if (lo > 0 && prefix >= 0 && lo <= prefix + 1) {
      prefix = Math.max(prefix, hi);
      lo = hi = 0;
    }
  }

  /**
   * Delivers from the store, in order, every chunk up to {@code target} the client lacks: first the hole before the
   * live window, then past its top. Without a prefix (no replay) only the live window is extended. Waits for the
   * client to drain between pages.
   */
  private Future<Void> catchUp(long target) {
    merge();
    long need = prefix >= 0 ? prefix + 1 : lo > 0 ? hi + 1 : Long.MAX_VALUE;
    if (need > target || closed) {
      return Future.succeededFuture();
    }
    if (!sink.writable()) {
      Promise<Void> room = Promise.promise();
      sink.whenWritable(() -> room.complete());
      return room.future().compose(v -> catchUp(target));
    }
    return feed.read(need - 1).compose(s -> {
      long expect = need;
      List<FeedEvent> page = new ArrayList<>(s.chunks().size());
      for (ChunkEvent c : s.chunks()) {
        if (c.sequence() != expect || c.sequence() > target || closed) {
          break;
        }
        if (!delivered(expect)) {
          if (prefix >= 0) {
            prefix = expect; // closing the hole before the live window
          } else {
            hi = expect; // extending the live window of a client that never replayed
          }
          page.add(new FeedEvent(c));
        }
        expect++;
        merge();
      }
      sink.chunks(page);
      if (expect == need) {
        // The store answered without the next chunk although a terminal or a later chunk says it exists.
        return Future.failedFuture(new TokenbusException(ErrorCode.HISTORY_LOST,
          "the store holds no chunk " + need + " of job " + jobId()));
      }
      return catchUp(target);
    });
  }

  private void runReplay(ReplayOp op) {
    busy = true;
    feed.read(op.after()).onComplete(ar -> {
      if (closed) {
        op.answer().tryFail(new TokenbusException(ErrorCode.CONFLICT, "this stream has ended"));
        return;
      }
      if (ar.failed()) {
        replaying = false;
        busy = false;
        op.answer().fail(ar.cause());
        pump();
        return;
      }
      JobSnapshot s = ar.result();
      List<ChunkEvent> fresh = new ArrayList<>(s.chunks().size());
      long last = op.after();
      for (ChunkEvent c : s.chunks()) {
        if (!delivered(c.sequence())) {
          fresh.add(c);
        }
        last = c.sequence();
      }
      // The client now holds 1..after (its claim), the page, and whatever was delivered before.
      prefix = Math.max(prefix, last);
      if (lo > 0 && hi <= prefix) {
        lo = hi = 0;
      }
      merge();
      op.answer().complete(new JobSnapshot(s.jobId(), s.state(), s.lastSequence(), s.createdAt(), s.type(), s.model(),
        fresh, s.terminal(), false, s.orphaned(), null));
    });
  }

  private void abort(String reason) {
    close();
    sink.abort(reason);
  }

  private void fail(TokenbusException e) {
    if (closed) {
      return;
    }
    close();
    if (e.code() == ErrorCode.HISTORY_LOST) {
      sink.fail(e);
    } else {
      sink.abort(e.getMessage());
    }
  }
}
