package io.tokenbus.checkpoint;

import io.micrometer.core.instrument.Counter;
import io.tokenbus.events.ChunkEvent;
import io.tokenbus.events.ErrorCode;
import io.tokenbus.events.JobState;
import io.tokenbus.events.StatusEvent;
import io.tokenbus.events.TokenbusException;
import io.tokenbus.events.internal.AppendBatch;
import io.tokenbus.events.internal.AppendBatchResult;
import io.tokenbus.events.internal.AppendRequest;
import io.tokenbus.events.internal.AppendResult;
import io.vertx.core.Future;
import io.vertx.core.internal.logging.Logger;
import io.vertx.core.internal.logging.LoggerFactory;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Appends of chunks and terminal events (append.lua). A batch leaves in as few script calls as the deployment
 * allows: on standalone or Sentinel Redis one call carries the appends of up to {@link #JOBS_PER_CALL} jobs, which
 * spares Redis a command per append (a tenth of its CPU per token in the bench, docs/benchmarks.md); on a cluster every job
 * is a call of its own, on the node of its slot. Each job's append stays atomic and idempotent either way.
 *
 * <p>Not thread-safe: used from its owner verticle's context only.
 */
final class JobAppends {
  private static final Logger log = LoggerFactory.getLogger(JobAppends.class);
  /** Bounds one script's run (Redis serves nobody else meanwhile): ~32 × 10 µs at batch 1. */
  static final int JOBS_PER_CALL = 32;
  /** append.lua's line for a job whose append Redis refused. */
  private static final String ERROR = "error ";

  private final ScriptCalls scripts;
  private final StoreMetrics metrics;
  private final Counter chunksStored;
  private final String ttlMs;
  private final int jobsPerCall;

  JobAppends(ScriptCalls scripts, CheckpointConfig config, StoreMetrics metrics, Counter chunksStored) {
    this.scripts = scripts;
    this.metrics = metrics;
    this.chunksStored = chunksStored;
    this.ttlMs = String.valueOf(config.retention().toMillis());
    this.jobsPerCall = config.redisMode() == CheckpointConfig.RedisMode.CLUSTER ? 1 : JOBS_PER_CALL;
  }

  /**
   * Not accepted (job closed before, or closed now because the store lost part of it) means nothing was written and
   * {@code terminal} is the job's stored terminal event, which the caller publishes.
   */
  Future<AppendResult> append(AppendRequest req) {
    return appendBatch(new AppendBatch(List.of(req))).compose(b -> {
      AppendBatchResult.Outcome o = b.outcomes().get(0);
      return o.result() != null ? Future.succeededFuture(o.result()) : Future.failedFuture(o.failure());
    });
  }

  /** One outcome per append, in order; a request that cannot be sent fails alone, a call that fails fails its jobs. */
  Future<AppendBatchResult> appendBatch(AppendBatch batch) {
    List<AppendRequest> appends = batch.appends();
    AppendBatchResult.Outcome[] out = new AppendBatchResult.Outcome[appends.size()];
    List<Future<Void>> sent = new ArrayList<>();
    Call call = new Call();
    for (int i = 0; i < appends.size(); i++) {
      try {
        call.add(i, appends.get(i));
      } catch (TokenbusException e) {
        out[i] = new AppendBatchResult.Outcome(null, e);
      }
      if (call.size() == jobsPerCall) {
        sent.add(send(call, appends, out));
        call = new Call();
      }
    }
    if (call.size() > 0) {
      sent.add(send(call, appends, out));
    }
    return Future.join(sent).transform(ignored -> Future.succeededFuture(new AppendBatchResult(Arrays.asList(out))));
  }

  private Future<Void> send(Call call, List<AppendRequest> appends, AppendBatchResult.Outcome[] out) {
    return scripts.write(Scripts.APPEND, call.keys, call.args).map(r -> {
      String[] lines = r.toString().split("\n", -1);
      if (lines.length != call.size()) {
        throw new TokenbusException(ErrorCode.INTERNAL, "append.lua answered " + lines.length + " lines for " + call.size() + " jobs");
      }
      for (int j = 0; j < lines.length; j++) {
        int i = call.indexes.get(j);
        if (lines[j].startsWith(ERROR)) {
          // Redis' answer for this job alone, classified as if the whole call had got it (read-only, OOM, ...).
          String why = lines[j].substring(ERROR.length());
          scripts.writeFailed(why);
          out[i] = new AppendBatchResult.Outcome(null, RedisFailures.reply(why));
        } else {
          out[i] = new AppendBatchResult.Outcome(result(appends.get(i), lines[j]), null);
        }
      }
      return (Void) null;
    }).recover(e -> {
      TokenbusException failure = TokenbusException.from(e);
      for (int i : call.indexes) {
        if (out[i] == null) {
          out[i] = new AppendBatchResult.Outcome(null, failure);
        }
      }
      return Future.succeededFuture();
    });
  }

  /** One job's line of append.lua's answer: "outcome last state[ terminal]". */
  private AppendResult result(AppendRequest req, String line) {
    String[] reply = line.split(" ", 4);
    String outcome = reply[0];
    long last = Long.parseLong(reply[1]);
    JobState state = JobState.fromWire(reply[2]);
    StatusEvent terminal = reply.length > 3 ? StatusEvent.fromJson(new JsonObject(reply[3])) : null;
    if ("fenced".equals(outcome)) {
      metrics.fenced();
      return new AppendResult(false, last, state, null);
    }
    if ("lost".equals(outcome)) {
      log.warn("job " + req.jobId() + " closed as history_lost: " + terminal.error().message());
      metrics.closed(terminal);
    } else if ("ok".equals(outcome)) {
      chunksStored.increment(req.chunks().size());
      if (req.terminal() != null) {
        metrics.closed(terminal != null ? terminal : req.terminal());
      }
    }
    return new AppendResult("ok".equals(outcome), last, state, terminal);
  }

  /** The keys and arguments of one script call, and which appends of the batch it carries. */
  private final class Call {
    final List<String> keys = new ArrayList<>();
    final List<String> args = new ArrayList<>();
    final List<Integer> indexes = new ArrayList<>();

    Call() {
      args.add(ttlMs);
    }

    int size() {
      return indexes.size();
    }

    /** Adds append {@code index} whole, or nothing if it cannot be encoded. */
    void add(int index, AppendRequest req) {
      JobKeys k = JobKeys.of(req.jobId());
      StatusEvent t = req.terminal();
      List<String> own = new ArrayList<>(5 + req.chunks().size());
      own.add(String.valueOf(req.chunks().isEmpty() ? 0 : req.chunks().get(0).sequence()));
      own.add(t == null ? "" : t.state().wire());
      own.add(t == null ? "" : t.toJson().encode());
      own.add(String.valueOf(req.epoch()));
      own.add(String.valueOf(req.chunks().size()));
      for (ChunkEvent c : req.chunks()) {
        own.add(c.encoded());
      }
      keys.add(k.meta());
      keys.add(k.log());
      args.addAll(own);
      indexes.add(index);
    }
  }
}
