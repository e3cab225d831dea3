package io.tokenbus.checkpoint;

import io.tokenbus.events.ChunkEvent;
import io.tokenbus.events.internal.JobSnapshot;
import io.vertx.core.buffer.Buffer;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Long pages of finished jobs, kept in memory: a finished job's history never changes, so a page read again (a page
 * reload, a second viewer, the same job over SSE and HTTP) is answered without Redis. Reading 10,000 chunks back from
 * Redis costs ~20 ms of this node's CPU in the client's reply parsing alone, whatever the layout in Redis.
 *
 * <p>Redis stays the source of truth: a kept page is answered only after Redis confirms it still holds the job's
 * whole history ({@link JobReads}: the job's last sequence and its log's length, two O(1) commands), so a job that
 * expired or lost chunks reads as it would without this cache, on every node alike.
 *
 * <p>Chunks are kept as their stored JSON bytes (a replay never parses them), so an entry's size is known. Bounded in
 * bytes ({@code TOKENBUS_REPLAY_CACHE_BYTES}; the least recently read page goes first). Only pages longer than one
 * script call's worth are kept; short reads are one cheap call anyway.
 *
 * <p>Not thread-safe: used from its owner verticle's context only.
 */
final class FinishedPages {
  /** A Buffer's objects (Vert.x and Netty's) and array header, and the reference to it; bytes counted as they are. */
  private static final long BYTES_PER_TEXT = 96;
  private static final long BYTES_PER_PAGE = 512;

  private record Key(String jobId, long after, int limit) {}

  /** A kept page: its snapshot without chunks, and the chunks' stored JSON as read. */
  record Page(JobSnapshot shell, Buffer[] texts, long bytes) {
    long lastSequence() {
      return shell.lastSequence();
    }

    /** The page as it was read (built only once Redis confirmed it still holds it). */
    JobSnapshot snapshot(String jobId, long after) {
      List<ChunkEvent> chunks = new ArrayList<>(texts.length);
      for (int i = 0; i < texts.length; i++) {
        chunks.add(ChunkEvent.stored(jobId, after + i + 1, texts[i]));
      }
      return shell.withChunks(chunks);
    }
  }

  private final long maxBytes;
  private final LinkedHashMap<Key, Page> pages = new LinkedHashMap<>(64, 0.75f, true);
  private long bytes;
  private long hits;
  private long misses;

  FinishedPages(long maxBytes) {
    this.maxBytes = maxBytes;
  }

  /** Whether a read of {@code limit} chunks is one this cache would keep. */
  boolean keeps(int limit) {
    return maxBytes > 0 && limit > JobReads.ATOMIC_CHUNKS;
  }

  /** The page as read before (to be confirmed against Redis, then {@link #hit()}), or null. */
  Page get(String jobId, long after, int limit) {
    return keeps(limit) ? pages.get(new Key(jobId, after, limit)) : null;
  }

  void hit() {
    hits++;
  }

  /** Forgets a page Redis no longer confirms. */
  void drop(String jobId, long after, int limit) {
    remove(new Key(jobId, after, limit));
  }

  /** Keeps {@code s}, just read from Redis, if it is a long page of a finished job and fits. */
  void put(String jobId, long after, int limit, JobSnapshot s) {
    if (!keeps(limit) || !s.state().terminal() || s.terminal() == null) {
      return;
    }
    misses++;
    Buffer[] texts = new Buffer[s.chunks().size()];
    // The terminal event carries the whole answer; counted with every kept page of the job though its pages share it
    // (JobReads parses a terminal once): an upper bound.
    String result = s.terminal().result();
    long size = BYTES_PER_PAGE + (result == null ? 0 : BYTES_PER_TEXT + 2L * result.length());
    for (int i = 0; i < texts.length; i++) {
      texts[i] = s.chunks().get(i).encodedBytes();
      size += BYTES_PER_TEXT + texts[i].length();
    }
    if (size > maxBytes / 4) { // one huge page would evict everything else
      return;
    }
    Key key = new Key(jobId, after, limit);
    remove(key);
    pages.put(key, new Page(s.withChunks(List.of()), texts, size));
    bytes += size;
    for (Iterator<Map.Entry<Key, Page>> it = pages.entrySet().iterator(); bytes > maxBytes && it.hasNext(); ) {
      bytes -= it.next().getValue().bytes;
      it.remove();
    }
  }

  private void remove(Key key) {
    Page old = pages.remove(key);
    if (old != null) {
      bytes -= old.bytes;
    }
  }

  long bytes() {
    return bytes;
  }

  long hits() {
    return hits;
  }

  long misses() {
    return misses;
  }
}
