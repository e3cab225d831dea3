package io.tokenbus.events.codec;

import io.tokenbus.events.ChunkEvent;
import io.tokenbus.events.internal.JobSnapshot;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;

/**
 * A store read on the bus: by reference locally; between nodes the snapshot's other fields as JSON, then each chunk's
 * sequence and stored JSON bytes, which the receiver keeps unparsed ({@link ChunkEvent#stored}): a replay page of
 * thousands of chunks crosses the cluster without being encoded or parsed chunk by chunk.
 */
final class SnapshotCodec extends ByReferenceCodec<JobSnapshot> {
  SnapshotCodec() {
    super("tb.snapshot");
  }

  @Override
  public void encodeToWire(Buffer buffer, JobSnapshot s) {
    Buffer head = s.withChunks(List.of()).toJson().toBuffer();
    buffer.appendInt(head.length()).appendBuffer(head).appendInt(s.chunks().size());
    for (ChunkEvent c : s.chunks()) {
      Buffer json = c.encodedBytes();
      buffer.appendLong(c.sequence()).appendInt(json.length()).appendBuffer(json);
    }
  }

  @Override
  public JobSnapshot decodeFromWire(int pos, Buffer buffer) {
    int len = buffer.getInt(pos);
    JobSnapshot head = JobSnapshot.fromJson(new JsonObject(buffer.getBuffer(pos + 4, pos + 4 + len)));
    pos += 4 + len;
    int n = buffer.getInt(pos);
    pos += 4;
    List<ChunkEvent> chunks = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      long sequence = buffer.getLong(pos);
      int size = buffer.getInt(pos + 8);
      chunks.add(ChunkEvent.stored(head.jobId(), sequence, buffer.getBuffer(pos + 12, pos + 12 + size)));
      pos += 12 + size;
    }
    return head.withChunks(chunks);
  }
}
