package io.tokenbus.bench;

import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

/**
 * What the bench's clients saw, whatever their transport: end-to-end latency of every chunk (overall and per priority
 * class), tokens and chunks delivered, and exactly-once delivery (per stream, sequences dense and never repeated).
 */
final class Delivery {
  static final int INTERACTIVE = 0;
  static final int BACKGROUND = 1;
  private static final int MAX_SEQUENCE = 1 << 16;
  private static final long MAX_LATENCY_MICROS = TimeUnit.SECONDS.toMicros(60);

  final Recorder latency = new Recorder(MAX_LATENCY_MICROS, 3);
  /** Indexed by class: {@link #INTERACTIVE}, {@link #BACKGROUND}. */
  final Recorder[] classLatency = {new Recorder(MAX_LATENCY_MICROS, 3), new Recorder(MAX_LATENCY_MICROS, 3)};
  final AtomicLong[] classTokens = {new AtomicLong(), new AtomicLong()};
  final AtomicLong tokens = new AtomicLong();
  final AtomicLong chunks = new AtomicLong();
  private final AtomicLong duplicates = new AtomicLong();
  private final List<long[]> seen = new CopyOnWriteArrayList<>();

  static Histogram histogram() {
    return new Histogram(MAX_LATENCY_MICROS, 3);
  }

  /**
   * The state of one stream: [0] the highest sequence seen, then a bitset of the sequences seen (order may differ
   * between a replay reply and live frames at the start of a bridge stream), the last slot the stream's class.
   */
  long[] newStream(int klass) {
    long[] s = new long[3 + MAX_SEQUENCE / 64];
    s[s.length - 1] = klass;
    seen.add(s);
    return s;
  }

  void record(long seq, long ts, long tokenCount, long[] stream) {
    Instant now = Instant.now();
    // Capped at the histograms' range (60 s) rather than thrown away: a chunk that late still shows as the max.
    long micros = Math.min(MAX_LATENCY_MICROS, Math.max(0, now.getEpochSecond() * 1_000_000L + now.getNano() / 1000 - ts * 1000));
    latency.recordValue(micros);
    int k = (int) stream[stream.length - 1];
    classLatency[k].recordValue(micros);
    classTokens[k].addAndGet(tokenCount);
    tokens.addAndGet(tokenCount);
    chunks.incrementAndGet();
    int word = 1 + (int) (seq >>> 6);
    if (word >= stream.length - 1) {
      duplicates.incrementAndGet(); // beyond what the stream can hold: counted as an error, never silently
      return;
    }
    long bit = 1L << (seq & 63);
    if ((stream[word] & bit) != 0) {
      duplicates.incrementAndGet();
    }
    stream[word] |= bit;
    stream[0] = Math.max(stream[0], seq);
  }

  long duplicates() {
    return duplicates.get();
  }

  /** Sequences below the highest seen that never came, over all streams. */
  long gaps() {
    long missing = 0;
    for (long[] s : seen) {
      for (long q = 1; q <= s[0]; q++) {
        if ((s[1 + (int) (q >>> 6)] & (1L << (q & 63))) == 0) {
          missing++;
        }
      }
    }
    return missing;
  }

  /** Latency percentiles of a histogram of µs, in ms, as the result reports them. */
  static JsonObject latencyMs(Histogram h) {
    return new JsonObject()
      .put("p50", h.getValueAtPercentile(50) / 1000.0).put("p90", h.getValueAtPercentile(90) / 1000.0)
      .put("p99", h.getValueAtPercentile(99) / 1000.0).put("p999", h.getValueAtPercentile(99.9) / 1000.0)
      .put("max", h.getMaxValue() / 1000.0).put("samples", h.getTotalCount());
  }
}
