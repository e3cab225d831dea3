package io.tokenbus.checkpoint;

import io.tokenbus.events.ChunkEvent;
import io.tokenbus.events.ErrorCode;
import io.tokenbus.events.JobState;
import io.tokenbus.events.Priority;
import io.tokenbus.events.StatusEvent;
import io.tokenbus.events.TokenbusException;
import io.tokenbus.events.internal.JobSnapshot;
import io.tokenbus.events.internal.ReplayRequest;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Reads of a job: its state and a page of its chunks, proven complete (see read.lua).
 *
 * <p>A read begins with one script call for up to {@link #ATOMIC_CHUNKS} chunks, which answers most reads whole. The
 * rest of a longer page is read as the job's state (read.lua without chunks) and a plain {@code XRANGE} side by side,
 * not by the script: a script copies every entry into Lua and back, eight times the Redis CPU of the range itself
 * (10 ms against 1.2 ms for 2,000 chunks). The two are not one snapshot, so the page is taken only if it proves itself: exactly the
 * sequences after+1, after+2, ... up to the page's size or the stored last one (entries appended in between are cut
 * off). Anything else (a job that moved on, expired or lost its history between the two) is decided by the atomic
 * script read, which also tells a real loss from a race. Chunks stay the UTF-8 bytes they were read as.
 *
 * <p>Not thread-safe: used from its owner verticle's context only.
 */
final class JobReads {
  /** read.lua's limit for "the state only, without the prompt". */
  private static final String STATE_ONLY_NO_PROMPT = "-1";
  /** Chunks read by one script call before the rest of a page is read as a range. */
  static final int ATOMIC_CHUNKS = 64;
  /** Index of the first chunk in read.lua's answer. */
  private static final int FIRST_CHUNK = 11;
  private static final int PARSED_TERMINALS = 64;

  private final ScriptCalls scripts;
  private final RedisPipeline pipeline;
  private final CheckpointConfig config;
  private final FinishedPages finished;
  /** Terminal events of the jobs read last, by job id (bounded: {@link #PARSED_TERMINALS}). */
  private final Map<String, Parsed> terminals = new LinkedHashMap<>(PARSED_TERMINALS, 0.75f, true) {
    @Override
    protected boolean removeEldestEntry(Map.Entry<String, Parsed> eldest) {
      return size() > PARSED_TERMINALS;
    }
  };

  private record Parsed(String json, StatusEvent event) {}

  JobReads(ScriptCalls scripts, RedisPipeline pipeline, CheckpointConfig config, FinishedPages finished) {
    this.scripts = scripts;
    this.pipeline = pipeline;
    this.config = config;
    this.finished = finished;
  }

  Future<JobSnapshot> replay(ReplayRequest req) {
    int limit = req.limit() == ReplayRequest.STATE_ONLY ? 0
      : req.limit() <= 0 ? config.maxReplayChunks() : Math.min(req.limit(), config.maxReplayChunks());
    String id = req.jobId();
    long after = req.afterSequence();
    FinishedPages.Page known = finished.get(id, after, limit);
    if (known != null) {
      return stillHeld(id, known.lastSequence()).compose(held -> {
        if (held) {
          finished.hit();
          return Future.succeededFuture(known.snapshot(id, after));
        }
        finished.drop(id, after, limit);
        return read(id, after, limit);
      });
    }
    return read(id, after, limit);
  }

  /**
   * Whether Redis still holds all of a finished job's history: its last sequence as before and one log entry per
   * sequence (entries are only ever added, one per sequence, so any loss or expiry shows in one of the two).
   */
  private Future<Boolean> stillHeld(String id, long last) {
    JobKeys k = JobKeys.of(id);
    Future<Response> stored = pipeline.read(Request.cmd(Command.HGET).arg(k.meta()).arg("last"));
    Future<Response> length = pipeline.read(Request.cmd(Command.XLEN).arg(k.log()));
    return Future.all(stored, length).map(v -> stored.result() != null && stored.result().toLong() == last
      && length.result() != null && length.result().toLong() == last);
  }

  private Future<JobSnapshot> read(String id, long after, int limit) {
    // Most reads are small (a stream opening on a running job, the idle check): one script call answers them.
    int head = Math.min(limit, ATOMIC_CHUNKS);
    return atomic(id, after, head).compose(s -> !s.hasMore() || head == limit ? Future.succeededFuture(s)
      : ranged(id, after + head, limit - head).map(rest -> {
        List<ChunkEvent> all = new ArrayList<>(s.chunks().size() + rest.chunks().size());
        all.addAll(s.chunks());
        all.addAll(rest.chunks());
        return rest.withChunks(all);
      }).andThen(read -> {
        if (read.succeeded()) {
          finished.put(id, after, limit, read.result());
        }
      }));
  }

  /** The state and a plain range read side by side; the atomic read if the range does not prove itself. */
  private Future<JobSnapshot> ranged(String id, long after, int limit) {
    JobKeys k = JobKeys.of(id);
    Future<Response> state = scripts.read(Scripts.READ, List.of(k.meta(), k.log()),
      List.of(String.valueOf(after), STATE_ONLY_NO_PROMPT));
    Future<Response> range = pipeline.read(Request.cmd(Command.XRANGE).arg(k.log()).arg("(" + after + "-0").arg("+")
      .arg("COUNT").arg(limit));
    return Future.all(state, range).compose(v -> {
      JobSnapshot s = page(id, after, limit, state.result(), range.result());
      return s != null ? Future.succeededFuture(s) : atomic(id, after, limit);
    });
  }

  /** The page if the range proves itself against the state, else null. */
  private JobSnapshot page(String id, long after, int limit, Response state, Response range) {
    if (!"ok".equals(state.get(0).toString())) {
      return null;
    }
    long last = state.get(2).toLong();
    long expected = Math.min(limit, last - after);
    if (range.size() < expected) {
      return null;
    }
    List<ChunkEvent> chunks = new ArrayList<>((int) Math.max(0, expected));
    for (int i = 0; i < expected; i++) {
      Response entry = range.get(i);
      long sequence = after + i + 1;
      if (!isEntryOf(entry.get(0).toBuffer(), sequence)) {
        return null;
      }
      chunks.add(ChunkEvent.stored(id, sequence, entry.get(1).get(1).toBuffer()));
    }
    return snapshot(id, state, chunks, after + expected < last);
  }

  /** Whether a log entry's id is {@code <sequence>-0}: compared as bytes, once per chunk of a page. */
  static boolean isEntryOf(Buffer id, long sequence) {
    int n = id.length() - 2;
    if (n < 1 || id.getByte(n) != '-' || id.getByte(n + 1) != '0') {
      return false;
    }
    long expected = sequence;
    for (int i = n - 1; i >= 0; i--, expected /= 10) {
      if (id.getByte(i) != '0' + expected % 10) {
        return false;
      }
    }
    return expected == 0 && (n == 1 || id.getByte(0) != '0');
  }

  /** One script call: the state and the chunks as one consistent snapshot, or the coded reason there is none. */
  private Future<JobSnapshot> atomic(String id, long after, int limit) {
    JobKeys k = JobKeys.of(id);
    return scripts.read(Scripts.READ, List.of(k.meta(), k.log()), List.of(String.valueOf(after), String.valueOf(limit)))
      .compose(r -> {
        switch (r.get(0).toString()) {
          case "missing":
            return Future.failedFuture(new TokenbusException(ErrorCode.NOT_FOUND, "job " + id + " is unknown or expired"));
          case "lost":
            return Future.failedFuture(new TokenbusException(ErrorCode.HISTORY_LOST, "job " + id + ": " + r.get(1)));
          default:
            break;
        }
        // read.lua proved the chunks dense from after + 1; they stay stored bytes, decoded only if asked.
        List<ChunkEvent> chunks = new ArrayList<>(r.size() - FIRST_CHUNK);
        for (int i = FIRST_CHUNK; i < r.size(); i++) {
          chunks.add(ChunkEvent.stored(id, after + i - FIRST_CHUNK + 1, r.get(i).toBuffer()));
        }
        return Future.succeededFuture(snapshot(id, r, chunks, r.get(8).toInteger() == 1));
      });
  }

  /**
   * The job's terminal event, parsed once: every page of a finished job's replay carries it, and it holds the whole
   * answer (parsing it was a sixth of a 10,000-chunk replay's CPU). Checked against the stored text on every use.
   */
  private StatusEvent terminal(String id, String json) {
    Parsed known = terminals.get(id);
    if (known != null && known.json.equals(json)) {
      return known.event;
    }
    StatusEvent parsed = StatusEvent.fromJson(new JsonObject(json));
    terminals.put(id, new Parsed(json, parsed));
    return parsed;
  }

  private JobSnapshot snapshot(String id, Response r, List<ChunkEvent> chunks, boolean hasMore) {
    String model = r.get(5).toString();
    String terminal = r.get(6).toString();
    String prompt = r.get(9).toString();
    String priority = r.get(10).toString();
    return new JobSnapshot(id, JobState.fromWire(r.get(1).toString()), r.get(2).toLong(), r.get(3).toLong(),
      r.get(4).toString(), model.isEmpty() ? null : model, chunks,
      terminal.isEmpty() ? null : terminal(id, terminal), hasMore, orphaned(r.get(7).toLong()),
      prompt.isEmpty() ? null : prompt, priority.isEmpty() ? null : Priority.fromWire(priority));
  }

  /**
   * A lease that ran out (by Redis' clock) proves a dead worker only if its renewals could have arrived: Redis
   * answered this verticle on all its connections, without a loss or outage, for at least the job's lease period.
   */
  private boolean orphaned(long ranOutLeaseMs) {
    if (ranOutLeaseMs == 0) {
      return false;
    }
    long period = ranOutLeaseMs > 0 ? ranOutLeaseMs : config.initialLease().toMillis(); // -1: a job from before leaseMs
    return pipeline.healthyForNanos() >= TimeUnit.MILLISECONDS.toNanos(period);
  }
}
