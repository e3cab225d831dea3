package io.tokenbus.events.codec;

import io.vertx.core.eventbus.MessageCodec;

/**
 * An event-bus codec for an immutable type: on the local bus the instance itself is passed (no copy); subclasses say
 * how it crosses the wire between cluster nodes.
 */
abstract class ByReferenceCodec<T> implements MessageCodec<T, T> {
  private final String name;

  ByReferenceCodec(String name) {
    this.name = name;
  }

  @Override
  public final T transform(T t) {
    return t;
  }

  @Override
  public final String name() {
    return name;
  }

  @Override
  public final byte systemCodecID() {
    return -1; // a user codec
  }
}
