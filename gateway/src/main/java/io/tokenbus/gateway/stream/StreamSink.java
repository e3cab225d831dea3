package io.tokenbus.gateway.stream;

/** A transport that delivers one follower's events to one client: an SSE response or a bridge socket. */
public interface StreamSink {
  void chunk(FeedEvent chunk);

  void progress(FeedEvent progress);

  void status(FeedEvent status);

  /** The client cannot keep up or the follower is broken: close the transport; the client resumes by replay. */
  void abort(String reason);
}
