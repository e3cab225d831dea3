package io.tokenbus.checkpoint;

import io.vertx.core.Future;
import io.vertx.core.internal.logging.Logger;
import io.vertx.core.internal.logging.LoggerFactory;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;

/**
 * At start, reads the Redis settings that decide whether acknowledged chunks survive, and logs one verdict:
 * <ul>
 *   <li>{@code maxmemory-policy}: only {@code noeviction} is safe. Every tokenbus key has a TTL (the retention), so
 *   {@code volatile-*} policies may drop them as readily as {@code allkeys-*}: a full Redis would then silently
 *   evict chunks of running jobs (the continuity checks report it as {@code history_lost}, after the fact). With
 *   {@code noeviction} a full Redis refuses writes (OOM, answered {@code store_unavailable}) instead.</li>
 *   <li>{@code appendonly}: without AOF a Redis restart loses everything since the last RDB snapshot.</li>
 * </ul>
 * A Redis that does not allow CONFIG GET (renamed command, ACL, a managed service) is reported as unchecked; the
 * check never stops the store from starting. On a cluster the commands reach one node (they have no key).
 */
final class RedisSettings {
  private static final Logger log = LoggerFactory.getLogger(RedisSettings.class);

  /** What was found, for tests and the log. */
  record Verdict(String maxmemoryPolicy, String appendonly, boolean evicts, String unchecked) {
    boolean safe() {
      return unchecked == null && !evicts && "yes".equals(appendonly);
    }
  }

  private RedisSettings() {
  }

  static Future<Verdict> check(RedisPipeline pipeline, CheckpointConfig.RedisMode mode) {
    Future<Response> policy = pipeline.write(Request.cmd(Command.CONFIG).arg("GET").arg("maxmemory-policy"));
    Future<Response> aof = pipeline.write(Request.cmd(Command.CONFIG).arg("GET").arg("appendonly"));
    return Future.join(policy, aof).transform(ignored -> {
      Verdict v;
      if (policy.failed() || aof.failed()) {
        String cause = (policy.failed() ? policy.cause() : aof.cause()).getMessage();
        v = new Verdict(null, null, false, cause);
        log.warn("redis durability settings not checked: CONFIG GET is not allowed here (" + cause + "); make sure"
          + " maxmemory-policy is noeviction and appendonly is yes, or acknowledged chunks can be lost");
        return Future.succeededFuture(v);
      }
      String p = value(policy.result(), "maxmemory-policy");
      String a = value(aof.result(), "appendonly");
      boolean evicts = p != null && (p.startsWith("allkeys-") || p.startsWith("volatile-"));
      v = new Verdict(p, a, evicts, p == null || a == null ? "no value returned" : null);
      String where = mode == CheckpointConfig.RedisMode.CLUSTER ? " (one cluster node asked)" : "";
      if (evicts) {
        log.error("REDIS MAY EVICT TOKENBUS DATA: maxmemory-policy is " + p + where + "; tokenbus keys carry a TTL, so"
          + " a full Redis drops chunks of running jobs (reported as history_lost). Set maxmemory-policy noeviction.");
      }
      if (!"yes".equals(a)) {
        log.warn("redis AOF is off (appendonly " + a + ")" + where + ": a Redis restart loses the chunks written since"
          + " the last snapshot (reported as history_lost). Set appendonly yes for durable streams.");
      }
      if (v.safe()) {
        log.info("redis durability settings ok: maxmemory-policy " + p + ", appendonly " + a + where);
      }
      return Future.succeededFuture(v);
    });
  }

  /** CONFIG GET answers [name, value] (RESP2) or {name: value} (RESP3); null when the setting is absent. */
  private static String value(Response r, String name) {
    if (r == null || !r.containsKey(name)) {
      return null;
    }
    Response v = r.get(name);
    return v == null ? null : v.toString();
  }
}
