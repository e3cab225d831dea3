package io.tokenbus.bench;

import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.RedisConnection;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;
import java.util.ArrayList;
import java.util.List;

/**
 * What reading a long history back from Redis costs through the Vert.x Redis client, for two layouts of the same
 * chunks: the store's stream ({@code XRANGE} of every entry, as the store reads a page) against one string value holding
 * all the chunk texts (one {@code GET}, then split at newlines, as a "page layout" store would). Wall time of
 * {@code ROUNDS} reads each, client parsing included; run against an otherwise idle Redis.
 *
 * <p>{@code java -cp bench/target/tokenbus-bench.jar io.tokenbus.bench.RedisReadCost redis://127.0.0.1:6399 [CHUNKS=10000]}
 * (the keys {@code tb:bench:stream} and {@code tb:bench:value} are overwritten).
 */
public final class RedisReadCost {
  private static final int ROUNDS = 10;

  private RedisReadCost() {}

  public static void main(String[] args) {
    int n = args.length > 1 ? Integer.parseInt(args[1]) : 10_000;
    Vertx vertx = Vertx.vertx();
    RedisConnection conn = Redis.createClient(vertx, args[0]).connect().await();
    conn.send(Request.cmd(Command.DEL).arg("tb:bench:stream").arg("tb:bench:value")).await();
    StringBuilder all = new StringBuilder();
    List<Request> batch = new ArrayList<>();
    for (int i = 1; i <= n; i++) {
      String chunk = "{\"type\":\"model:chunk\",\"jobId\":\"j0123456789abcdefghijklm\",\"chunk\":\" token" + i
        + "\",\"sequence\":" + i + ",\"timestamp\":1764280000000,\"metadata\":{\"model\":\"local\",\"step\":\"answer\"}}";
      batch.add(Request.cmd(Command.XADD).arg("tb:bench:stream").arg(i + "-0").arg("c").arg(chunk));
      all.append(chunk).append('\n');
      if (batch.size() == 500) {
        conn.batch(batch).await();
        batch = new ArrayList<>();
      }
    }
    if (!batch.isEmpty()) {
      conn.batch(batch).await();
    }
    conn.send(Request.cmd(Command.SET).arg("tb:bench:value").arg(all.toString())).await();
    for (int round = 0; round < 8; round++) {
      long t0 = System.nanoTime();
      long chars = 0;
      for (int k = 0; k < ROUNDS; k++) {
        Response r = conn.send(Request.cmd(Command.XRANGE).arg("tb:bench:stream").arg("-").arg("+")).await();
        for (int i = 0; i < r.size(); i++) {
          chars += r.get(i).get(1).get(1).toString().length();
        }
      }
      long t1 = System.nanoTime();
      for (int k = 0; k < ROUNDS; k++) {
        Buffer b = conn.send(Request.cmd(Command.GET).arg("tb:bench:value")).await().toBuffer();
        int start = 0;
        for (int i = 0; i < b.length(); i++) {
          if (b.getByte(i) == '\n') {
            chars += b.getString(start, i).length();
            start = i + 1;
          }
        }
      }
      long t2 = System.nanoTime();
      System.out.printf("%d chunks: XRANGE %.1f ms, GET + split %.1f ms (%d chars)%n", n, (t1 - t0) / 1e6 / ROUNDS,
        (t2 - t1) / 1e6 / ROUNDS, chars);
    }
    vertx.close().await();
  }
}
