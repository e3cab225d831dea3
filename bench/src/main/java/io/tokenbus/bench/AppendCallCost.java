package io.tokenbus.bench;

import io.vertx.core.Vertx;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.RedisConnection;
import io.vertx.redis.client.RedisOptions;
import io.vertx.redis.client.Request;
import java.util.ArrayList;
import java.util.List;

/**
 * Redis CPU per append when every token is its own script call (what the store does at batch 1) against one script
 * call carrying the appends of {@code PER_CALL} jobs (a possible coalescing, standalone Redis only: the keys of
 * several jobs are in different cluster slots). Both scripts do the store's per-append work (read the job's state,
 * add the chunk to its stream, write the new last sequence); Redis' own {@code used_cpu_user + used_cpu_sys} around
 * 2,000 jobs × 30 appends each way, alternating. Run against an otherwise idle Redis: it is flushed.
 *
 * <p>{@code java -cp bench/target/tokenbus-bench.jar io.tokenbus.bench.AppendCallCost redis://127.0.0.1:6398 [PER_CALL=20]}
 */
public final class AppendCallCost {
  private static final String APPEND = String.join("\n",
    "local function append(meta, log, seq, chunk)",
    "  local m = redis.call('HMGET', meta, 'state', 'last', 'epoch')",
    "  local last = tonumber(m[2]) or 0",
    "  if seq > last then redis.call('XADD', log, seq .. '-0', 'c', chunk); last = seq end",
    "  redis.call('HSET', meta, 'state', 'running', 'last', last)",
    "  return last",
    "end");
  private static final String ONE = APPEND + "\nreturn append(KEYS[1], KEYS[2], tonumber(ARGV[1]), ARGV[2])";
  private static final String MANY = APPEND + "\nlocal out = {}\nfor i = 1, #KEYS / 2 do\n"
    + "  out[i] = append(KEYS[2 * i - 1], KEYS[2 * i], tonumber(ARGV[2 * i - 1]), ARGV[2 * i])\nend\nreturn out";
  private static final String CHUNK = "{\"type\":\"model:chunk\",\"jobId\":\"j0123456789abcdefghijklm\",\"chunk\":\" token\","
    + "\"sequence\":1,\"timestamp\":1764280000000,\"metadata\":{\"model\":\"local\",\"step\":\"answer\"}}";
  private static final int JOBS = 2000;
  private static final int ROUNDS = 30;

  private AppendCallCost() {}

  public static void main(String[] args) {
    int perCall = args.length > 1 ? Integer.parseInt(args[1]) : 20;
    Vertx vertx = Vertx.vertx();
    RedisConnection c = Redis.createClient(vertx, new RedisOptions().setConnectionString(args[0])
      .setMaxWaitingHandlers(JOBS * 2)).connect().await();
    String one = c.send(Request.cmd(Command.SCRIPT).arg("LOAD").arg(ONE)).await().toString();
    String many = c.send(Request.cmd(Command.SCRIPT).arg("LOAD").arg(MANY)).await().toString();
    for (int pass = 0; pass < 4; pass++) {
      for (int per : new int[] {1, perCall}) {
        c.send(Request.cmd(Command.FLUSHALL)).await();
        double before = cpuSeconds(c);
        for (int seq = 1; seq <= ROUNDS; seq++) {
          List<Request> batch = new ArrayList<>();
          for (int j = 0; j < JOBS; j += per) {
            Request r = Request.cmd(Command.EVALSHA).arg(per == 1 ? one : many).arg(2 * per);
            for (int k = j; k < j + per; k++) {
              r.arg("tb:bench:{" + k + "}:meta").arg("tb:bench:{" + k + "}:log");
            }
            for (int k = j; k < j + per; k++) {
              r.arg(seq).arg(CHUNK);
            }
            batch.add(r);
          }
          c.batch(batch).await();
        }
        System.out.printf("pass %d, %2d append(s) per script call: Redis CPU %.2f µs per append%n", pass, per,
          (cpuSeconds(c) - before) * 1e6 / (JOBS * ROUNDS));
      }
    }
    vertx.close().await();
  }

  private static double cpuSeconds(RedisConnection c) {
    double t = 0;
    for (String line : c.send(Request.cmd(Command.INFO).arg("cpu")).await().toString().split("\r\n")) {
      if (line.startsWith("used_cpu_sys:") || line.startsWith("used_cpu_user:")) {
        t += Double.parseDouble(line.substring(line.indexOf(':') + 1));
      }
    }
    return t;
  }
}
