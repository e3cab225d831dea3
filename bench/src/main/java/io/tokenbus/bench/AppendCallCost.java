package io.tokenbus.bench;

import io.vertx.core.Vertx;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.RedisConnection;
import io.vertx.redis.client.RedisOptions;
import io.vertx.redis.client.Request;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.BiConsumer;

/**
 * Redis CPU per append when every token is its own script call (what the store does at batch 1) against one script
 * call carrying the appends of {@code PER_CALL} jobs (a possible coalescing, standalone Redis only: the keys of
 * several jobs are in different cluster slots). Both scripts do the store's per-append work (read the job's state,
 * add the chunk to its stream, write the new last sequence); Redis' own {@code used_cpu_user + used_cpu_sys} around
 * 2,000 jobs × 30 appends each way, alternating. Run against an otherwise idle Redis: it is flushed.
 *
 * <p>Given script files, it runs each of them instead, {@code PER_CALL} jobs per call, with the store's own argument
 * layout (append.lua's: ttl, then per job first sequence, terminal state and JSON, epoch, chunk count, chunks) on jobs
 * opened as running: the store's script against cut-down copies of it ({@code bench/script-cost/}) says what its own
 * Lua costs beside its commands.
 *
 * <p>{@code java -cp bench/target/tokenbus-bench.jar io.tokenbus.bench.AppendCallCost redis://127.0.0.1:6398 [PER_CALL=20] [SCRIPT.lua ...]}
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

  public static void main(String[] args) throws IOException {
    int perCall = args.length > 1 ? Integer.parseInt(args[1]) : 20;
    List<Path> scripts = Arrays.stream(args).skip(2).map(Path::of).toList();
    Vertx vertx = Vertx.vertx();
    RedisConnection c = Redis.createClient(vertx, new RedisOptions().setConnectionString(args[0])
      .setMaxWaitingHandlers(JOBS * 2)).connect().await();
    if (scripts.isEmpty()) {
      String one = load(c, ONE);
      String many = load(c, MANY);
      for (int pass = 0; pass < 4; pass++) {
        for (int per : new int[] {1, perCall}) {
          String sha = per == 1 ? one : many;
          flush(c, false);
          double us = usPerAppend(c, per, List.of(), (r, seq) -> r.arg(seq).arg(CHUNK), sha);
          System.out.printf("pass %d, %2d append(s) per script call: Redis CPU %.2f µs per append%n", pass, per, us);
        }
      }
    } else {
      List<String> shas = new ArrayList<>();
      for (Path p : scripts) {
        shas.add(load(c, Files.readString(p)));
      }
      for (int pass = 0; pass < 4; pass++) {
        for (int i = 0; i < scripts.size(); i++) {
          flush(c, true);
          double us = usPerAppend(c, perCall, List.of("600000"), (r, seq) -> r.arg(seq).arg("").arg("").arg(1).arg(1).arg(CHUNK),
            shas.get(i));
          System.out.printf("pass %d, %s, %d appends per call: Redis CPU %.2f µs per append%n", pass,
            scripts.get(i).getFileName(), perCall, us);
        }
      }
    }
    vertx.close().await();
  }

  private static String load(RedisConnection c, String script) {
    return c.send(Request.cmd(Command.SCRIPT).arg("LOAD").arg(script)).await().toString();
  }

  /** Empties Redis and, for the store's script (it refuses jobs it does not hold), opens the jobs as running. */
  private static void flush(RedisConnection c, boolean openJobs) {
    c.send(Request.cmd(Command.FLUSHALL)).await();
    if (openJobs) {
      List<Request> open = new ArrayList<>();
      for (int k = 0; k < JOBS; k++) {
        open.add(Request.cmd(Command.HSET).arg("tb:bench:{" + k + "}:meta").arg("state").arg("running").arg("last").arg(0)
          .arg("epoch").arg(1));
      }
      c.batch(open).await();
    }
  }

  /**
   * Times {@link #ROUNDS} appends to each of {@link #JOBS} jobs, {@code per} jobs per call of {@code sha}: the call's
   * arguments are {@code head}, then {@code perJob} for each of its jobs.
   */
  private static double usPerAppend(RedisConnection c, int per, List<String> head, BiConsumer<Request, Integer> perJob,
                                    String sha) {
    double before = cpuSeconds(c);
    for (int seq = 1; seq <= ROUNDS; seq++) {
      List<Request> batch = new ArrayList<>();
      for (int j = 0; j < JOBS; j += per) {
        Request r = Request.cmd(Command.EVALSHA).arg(sha).arg(2 * per);
        for (int k = j; k < j + per; k++) {
          r.arg("tb:bench:{" + k + "}:meta").arg("tb:bench:{" + k + "}:log");
        }
        head.forEach(r::arg);
        for (int k = j; k < j + per; k++) {
          perJob.accept(r, seq);
        }
        batch.add(r);
      }
      c.batch(batch).await();
    }
    return (cpuSeconds(c) - before) * 1e6 / (JOBS * ROUNDS);
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
