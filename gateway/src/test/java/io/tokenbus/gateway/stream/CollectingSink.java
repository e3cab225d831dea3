package io.tokenbus.gateway.stream;

import io.tokenbus.events.StatusEvent;
import io.tokenbus.events.TokenbusException;
import io.tokenbus.testing.Patience;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * A client that always reads: records each chunk (as {@code chunkLabel} names it), each terminal state, each abort and
 * each failure code, in order, for tests to take.
 */
final class CollectingSink implements StreamSink {
  final LinkedBlockingQueue<Object> events = new LinkedBlockingQueue<>();
  private final Function<FeedEvent, Object> chunkLabel;

  CollectingSink(Function<FeedEvent, Object> chunkLabel) {
    this.chunkLabel = chunkLabel;
  }

  @Override
  public void chunk(FeedEvent e) {
    events.add(chunkLabel.apply(e));
  }

  @Override
  public void progress(FeedEvent e) {
  }

  @Override
  public void status(FeedEvent e) {
    events.add(((StatusEvent) e.event()).state());
  }

  @Override
  public void abort(String reason) {
    events.add("abort: " + reason);
  }

  @Override
  public boolean writable() {
    return true;
  }

  @Override
  public void whenWritable(Runnable r) {
    r.run();
  }

  @Override
  public void fail(TokenbusException e) {
    events.add(e.code());
  }

  /** The next {@code n} events, each within {@link Patience#SECONDS}. */
  List<Object> take(int n) throws InterruptedException {
    List<Object> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      Object o = events.poll(Patience.SECONDS, TimeUnit.SECONDS);
      if (o == null) {
        throw new AssertionError("only got " + out);
      }
      out.add(o);
    }
    return out;
  }
}
