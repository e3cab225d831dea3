package io.tokenbus.gateway.stream;

import io.tokenbus.events.ChunkEvent;
import io.tokenbus.events.ProgressEvent;
import io.tokenbus.events.StatusEvent;

/** One job event on its way to followers, JSON-encoded at most once however many followers write it. */
public final class FeedEvent {
  private final Object event;
  private final boolean repair;
  private String json;

  public FeedEvent(Object event) {
    this(event, false);
  }

  /** @param repair read back from the store by the idle check rather than brought by the bus */
  FeedEvent(Object event, boolean repair) {
    this.event = event;
    this.repair = repair;
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
