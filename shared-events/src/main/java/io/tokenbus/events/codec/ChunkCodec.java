package io.tokenbus.events.codec;

import io.tokenbus.events.ChunkEvent;
import io.vertx.core.buffer.Buffer;
import java.nio.charset.StandardCharsets;

/** model:chunk on the bus: by reference locally; between nodes its JSON text, which the receiver keeps (no re-encode). */
final class ChunkCodec extends ByReferenceCodec<ChunkEvent> {
  ChunkCodec() {
    super("tb.chunk");
  }

  @Override
  public void encodeToWire(Buffer buffer, ChunkEvent c) {
    byte[] json = c.encoded().getBytes(StandardCharsets.UTF_8);
    buffer.appendInt(json.length).appendBytes(json);
  }

  @Override
  public ChunkEvent decodeFromWire(int pos, Buffer buffer) {
    int len = buffer.getInt(pos);
    return ChunkEvent.decode(buffer.getString(pos + 4, pos + 4 + len, "UTF-8"));
  }
}
