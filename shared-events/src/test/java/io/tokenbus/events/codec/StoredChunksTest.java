package io.tokenbus.events.codec;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tokenbus.events.ChunkEvent;
import io.tokenbus.events.ChunkMetadata;
import io.tokenbus.events.ErrorCode;
import io.tokenbus.events.JobError;
import io.tokenbus.events.JobState;
import io.tokenbus.events.Priority;
import io.tokenbus.events.StatusEvent;
import io.tokenbus.events.Step;
import io.tokenbus.events.TokenbusException;
import io.tokenbus.events.internal.JobSnapshot;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Chunks read back from the store travel as their stored JSON text: copied, not parsed and encoded again. */
class StoredChunksTest {
  private static final String JOB = "abcdefghijklmnop_-12";

  private static ChunkEvent chunk(long seq) {
    return new ChunkEvent(JOB, "tok \"" + seq + "\" é", seq, 1_700_000_000_000L + seq, new ChunkMetadata(Step.WRITING, "m", 19.5, 1));
  }

  @Test
  void aStoredChunkKeepsItsBytesAndReadsAsTheChunkItWas() {
    ChunkEvent c = chunk(7);
    Buffer bytes = Buffer.buffer(c.encoded());
    ChunkEvent stored = ChunkEvent.stored(JOB, 7, bytes);
    assertSame(bytes, stored.encodedBytes(), "the stored bytes are what is written to clients");
    assertEquals(c.encoded(), stored.encoded(), "decoded as UTF-8");
    assertEquals(c.encodedBytes(), stored.encodedBytes());
    assertEquals(c, stored);
    assertEquals(c.chunk(), stored.chunk());
    assertEquals(c.metadata(), stored.metadata());
    assertEquals(c.toJson(), stored.toJson());
  }

  @Test
  void theStreamedEncodingIsTheJsonObjectsEncoding() {
    for (String text : List.of("", "plain", "quote \" back \\ slash", "tab\tnew\nline\u0001\u001f", "é中文😀", "</script>")) {
      for (ChunkMetadata m : List.of(ChunkMetadata.NONE, new ChunkMetadata(Step.THINKING, "m:7b", 0.1, 3),
        new ChunkMetadata(null, null, 1e-7, null), new ChunkMetadata(Step.SEARCHING, null, null, Integer.MAX_VALUE))) {
        ChunkEvent c = new ChunkEvent(JOB, text, Long.MAX_VALUE, -1, m);
        assertEquals(c.toJson().encode(), c.encoded());
        assertEquals(c, ChunkEvent.decode(c.encoded()));
      }
    }
  }

  @Test
  void aStoredChunkWhoseTextNamesAnotherSequenceIsRefusedWhenRead() {
    ChunkEvent wrong = ChunkEvent.stored(JOB, 8, chunk(7).encodedBytes());
    TokenbusException e = assertThrows(TokenbusException.class, wrong::chunk);
    assertEquals(ErrorCode.INVALID_REQUEST, e.code());
  }

  @Test
  void aSnapshotCrossesTheClusterWithItsChunksAsStoredBytes() {
    List<ChunkEvent> chunks = List.of(chunk(3), chunk(4), chunk(5));
    JobSnapshot s = new JobSnapshot(JOB, JobState.FAILED, 5, 9, "ask", "m", chunks,
      new StatusEvent(JobState.FAILED, JOB, 5, null, new JobError("history_lost", "gone")), true, false, null,
      Priority.BACKGROUND);
    SnapshotCodec codec = new SnapshotCodec();
    Buffer wire = Buffer.buffer().appendString("xyz"); // the bus writes its own header first
    codec.encodeToWire(wire, s);
    JobSnapshot back = codec.decodeFromWire(3, wire);
    assertEquals(s, back);
    for (int i = 0; i < chunks.size(); i++) {
      assertEquals(chunks.get(i).encodedBytes(), back.chunks().get(i).encodedBytes());
      assertEquals(chunks.get(i).encoded(), back.chunks().get(i).encoded());
    }
  }

  @Test
  void theReplayBytesAreTheReplayJson() {
    ChunkEvent stored = ChunkEvent.stored(JOB, 2, chunk(2).encodedBytes());
    JobSnapshot running = new JobSnapshot(JOB, JobState.RUNNING, 9, 1, "ask", null, List.of(chunk(1), stored), null,
      true, false, null);
    assertEquals(running.toReplayJson(), new JsonObject(running.replayJsonBytes()));
    JobSnapshot done = new JobSnapshot(JOB, JobState.COMPLETED, 2, 1, "ask", null, List.of(),
      new StatusEvent(JobState.COMPLETED, JOB, 2, "r", null), false, false, null);
    assertEquals(done.toReplayJson(), new JsonObject(done.replayJsonBytes()));
    assertTrue(done.replayJsonBytes().toString().contains("\"chunks\":[]"));
  }

  @Test
  void enumsReadTheirWireNamesAndNameTheAllowedOnes() {
    for (Step s : Step.values()) {
      assertSame(s, Step.fromWire(s.wire()));
    }
    for (JobState s : JobState.values()) {
      assertSame(s, JobState.fromWire(s.wire()));
    }
    assertEquals("background", Priority.BACKGROUND.wire());
    TokenbusException e = assertThrows(TokenbusException.class, () -> Step.fromWire("WRITING"));
    assertEquals("step must be one of thinking, searching, writing", e.getMessage());
    assertThrows(TokenbusException.class, () -> JobState.fromWire(null));
  }
}
