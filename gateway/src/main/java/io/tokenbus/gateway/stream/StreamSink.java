package io.tokenbus.gateway.stream;

import io.tokenbus.events.TokenbusException;
import java.util.List;

/** A transport that delivers one follower's events to one client: an SSE response or a bridge socket. */
public interface StreamSink {
  void chunk(FeedEvent chunk);

  /** Consecutive chunks read from the store (a page of history), in order. */
  default void chunks(List<FeedEvent> page) {
    page.forEach(this::chunk);
  }

  void progress(FeedEvent progress);

  void status(FeedEvent status);

  /** False while the client has a full write queue: replayed history waits for {@link #whenWritable}. */
  boolean writable();

  /** Runs {@code r} once the client has drained its write queue (at once if it has). */
  void whenWritable(Runnable r);

  /** The client cannot keep up or the follower is broken: close the transport; the client resumes by replay. */
  void abort(String reason);

  /** The stream cannot go on for a reason a resume would not fix ({@code history_lost}): tell the client, end. */
  void fail(TokenbusException e);

  /** The transport's metrics label: sse or bridge. */
  default String transport() {
    return "other";
  }

  /** The follower delivered the end of the job and left the feed. */
  default void finished() {
  }
}
