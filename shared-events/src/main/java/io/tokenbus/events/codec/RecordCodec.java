package io.tokenbus.events.codec;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.MessageCodec;
import io.vertx.core.json.JsonObject;
import java.util.function.Function;

/**
 * Event-bus codec for immutable contract records: passed by reference on the local bus (no copy), JSON on the wire
 * between cluster nodes.
 */
public final class RecordCodec<T> implements MessageCodec<T, T> {
  private final String name;
  private final Function<T, JsonObject> toJson;
  private final Function<JsonObject, T> fromJson;

  public RecordCodec(String name, Function<T, JsonObject> toJson, Function<JsonObject, T> fromJson) {
    this.name = name;
    this.toJson = toJson;
    this.fromJson = fromJson;
  }

  @Override
  public void encodeToWire(Buffer buffer, T t) {
    Buffer json = toJson.apply(t).toBuffer();
    buffer.appendInt(json.length()).appendBuffer(json);
  }

  @Override
  public T decodeFromWire(int pos, Buffer buffer) {
    int len = buffer.getInt(pos);
    return fromJson.apply(new JsonObject(buffer.getBuffer(pos + 4, pos + 4 + len)));
  }

  @Override
  public T transform(T t) {
    return t;
  }

  @Override
  public String name() {
    return name;
  }

  @Override
  public byte systemCodecID() {
    return -1;
  }
}
