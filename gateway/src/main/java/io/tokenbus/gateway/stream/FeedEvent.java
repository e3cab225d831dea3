package io.tokenbus.gateway.stream;

import io.tokenbus.events.ChunkEvent;
import io.tokenbus.events.ProgressEvent;
import io.tokenbus.events.StatusEvent;
import java.util.ArrayList;
import java.util.List;

/** One job event on its way to followers, JSON-encoded at most once however many followers write it. */
public final class FeedEvent {
  private final Object event;
  private final boolean repair;
  private final boolean live;
  private final boolean background;
  private String json;

  /** An event read from the store (replay, catch-up) or made here: not live. */
  public FeedEvent(Object event) {
    this.event = event;
    this.repair = false;
    this.live = false;
    this.background = false;
  }

  /**
   * @param repair read back from the store by the idle check rather than brought by the bus
   * @param background the job's priority as this node knows it (labels its latency)
   */
  FeedEvent(Object event, boolean repair, boolean background) {
    this.event = event;
    this.repair = repair;
    this.live = !repair;
    this.background = background;
  }

  /** Chunks read from the store, in order. */
  public static List<FeedEvent> stored(List<ChunkEvent> chunks) {
    List<FeedEvent> out = new ArrayList<>(chunks.size());
    chunks.forEach(c -> out.add(new FeedEvent(c)));
    return out;
  }

  /** Brought by the bus as the worker published it (its latency is the system's), not read from the store. */
  public boolean live() {
    return live;
  }

  /** Of a job this node treats as background (submitted so, or learnt from the store); false when not live. */
  public boolean background() {
    return background;
  }

  boolean repair() {
    return repair;
  }

  public Object event() {
    return event;
  }

  public String json() {
    if (json == null) {
      if (event instanceof ChunkEvent c) {
        json = c.encoded();
      } else if (event instanceof ProgressEvent p) {
        json = p.toJson().encode();
      } else {
        json = ((StatusEvent) event).toJson().encode();
      }
    }
    return json;
  }
}
