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
 * <p>Not thread-safe: used from its owner verticle's context only.
 */
final class ScriptCalls {
  private final RedisPipeline pipeline;
  private Future<Void> loading;
  /** Counts loads begun; a command sent before the current count was reached finds the scripts loaded. */
  private long loadsBegun;
  private long loadsDone;

  ScriptCalls(RedisPipeline pipeline) {
    this.pipeline = pipeline;
  }

  long loads() {
    return loadsDone;
  }

  Future<Response> write(Scripts s, List<String> keys, List<String> args) {
    return call(s, false, keys, args);
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
      return loadedSince(sentAfter).compose(v -> send(s, read, keys, args));
    });
  }

  private Future<Response> send(Scripts s, boolean read, List<String> keys, List<String> args) {
    Request r = Request.cmd(Command.EVALSHA).arg(s.sha).arg(keys.size());
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
