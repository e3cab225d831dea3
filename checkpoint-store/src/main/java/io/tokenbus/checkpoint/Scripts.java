package io.tokenbus.checkpoint;

import io.vertx.core.Future;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.Request;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;

/** The Lua scripts of the chunk log, loaded from resources and called by SHA. */
enum Scripts {
  OPEN("open.lua"), APPEND("append.lua"), READ("read.lua"), LEASE("lease.lua");

  final String source;

  Scripts(String file) {
    try (InputStream in = Scripts.class.getResourceAsStream(file)) {
      source = new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Loads every script; Redis answers with the SHA1 we then call EVALSHA with. */
  static Future<String[]> load(Redis redis) {
    String[] shas = new String[values().length];
    Future<?> chain = Future.succeededFuture();
    for (Scripts s : values()) {
      chain = chain.compose(v -> redis.send(Request.cmd(Command.SCRIPT).arg("LOAD").arg(s.source))
        .map(r -> shas[s.ordinal()] = r.toString()));
    }
    return chain.map(v -> shas);
  }
}
