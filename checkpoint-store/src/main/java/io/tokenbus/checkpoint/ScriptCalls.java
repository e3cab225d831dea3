package io.tokenbus.checkpoint;

import io.tokenbus.events.ErrorCode;
import io.tokenbus.events.TokenbusException;
import io.vertx.core.Future;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;
import java.util.ArrayList;
import java.util.List;

/**
 * Calls the scripts by SHA through the pipeline. When Redis lost its script cache (restart, failover, SCRIPT FLUSH)
 * every command in flight answers NOSCRIPT at once: they all wait for one shared load, then each is sent again once.
 *
 * <p>On Redis Cluster each master has its own script cache and SCRIPT LOAD (keyless) would reach one random node, so
 * a command that gets NOSCRIPT is sent again at once as EVAL with the script's source, on its key's node: EVAL runs
 * the script and leaves it in that node's cache, so the next EVALSHA there finds it.
 *
 * <p>Not thread-safe: used from its owner verticle's context only.
 */
final class ScriptCalls {
  private final RedisPipeline pipeline;
  private final boolean evalOnNoScript;
  private Future<Void> loading;
  /** Counts loads begun; a command sent before the current count was reached finds the scripts loaded. */
  private long loadsBegun;
  private long loadsDone;
  private String lastWriteFailure;

  ScriptCalls(RedisPipeline pipeline, boolean cluster) {
    this.pipeline = pipeline;
    this.evalOnNoScript = cluster;
  }

  long loads() {
    return loadsDone;
  }

  Future<Response> write(Scripts s, List<String> keys, List<String> args) {
    return call(s, false, keys, args).andThen(ar -> lastWriteFailure = ar.failed() ? ar.cause().getMessage() : null);
  }

  /** A write answered for some of its jobs with Redis' error {@code why} (append.lua answers per job). */
  void writeFailed(String why) {
    lastWriteFailure = why;
  }

  /** Why the latest write failed (Redis answered an error such as READONLY or OOM, or none came), null if it did not. */
  String lastWriteFailure() {
    return lastWriteFailure;
  }

  Future<Response> read(Scripts s, List<String> keys, List<String> args) {
    return call(s, true, keys, args);
  }

  private Future<Response> call(Scripts s, boolean read, List<String> keys, List<String> args) {
    long sentAfter = loadsBegun;
    return send(s, read, keys, args).recover(e -> {
      if (!RedisFailures.isNoScript(e)) {
        return Future.failedFuture(e);
      }
      if (evalOnNoScript) {
        return send(Request.cmd(Command.EVAL).arg(s.source), read, keys, args);
      }
      return loadedSince(sentAfter).compose(v -> send(s, read, keys, args));
    });
  }

  private Future<Response> send(Scripts s, boolean read, List<String> keys, List<String> args) {
    return send(Request.cmd(Command.EVALSHA).arg(s.sha), read, keys, args);
  }

  private Future<Response> send(Request r, boolean read, List<String> keys, List<String> args) {
    r.arg(keys.size());
    keys.forEach(r::arg);
    args.forEach(r::arg);
    return read ? pipeline.read(r) : pipeline.write(r);
  }

  /** Joins the load in progress, or starts one unless a load began after the failed command was sent. */
  private Future<Void> loadedSince(long sentAfter) {
    if (loading != null) {
      return loading;
    }
    if (loadsBegun > sentAfter) {
      return Future.succeededFuture();
    }
    loadsBegun++;
    Future<Void> f = load();
    loading = f;
    f.onComplete(ar -> {
      if (loading == f) {
        loading = null;
      }
      if (ar.succeeded()) {
        loadsDone++;
      }
    });
    return f;
  }

  /** Loads every script (one pipelined round trip); Redis must answer with the SHA computed here. */
  Future<Void> load() {
    List<Future<Response>> all = new ArrayList<>();
    for (Scripts s : Scripts.values()) {
      all.add(pipeline.write(Request.cmd(Command.SCRIPT).arg("LOAD").arg(s.source)).compose(r -> s.sha.equals(r.toString())
        ? Future.succeededFuture(r)
        : Future.failedFuture(new TokenbusException(ErrorCode.INTERNAL, "redis gave " + s + " the SHA " + r + ", not " + s.sha))));
    }
    return Future.all(all).mapEmpty();
  }
}
