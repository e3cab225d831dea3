package io.tokenbus.e2e;

import io.tokenbus.worker.backend.BackendConfig;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.Json;
import java.util.ArrayList;
import java.util.List;

/**
 * An OpenAI-compatible provider over a real socket, for answers the local generator never writes (the worker's backend
 * {@code "fake"}). POST /v1/chat/completions: a prompt with {@link #LEAK_MARK} gets an answer with a Markdown image
 * and link to {@code 127.0.0.2:leakPort}; {@link #FAST_MARK} gets 20,000 tokens at 2,000 tokens/s once
 * {@link #fastGate} opens; anything else a few words.
 */
final class FakeChatProvider {
  static final String LEAK_MARK = "LEAKTEST";
  static final String FAST_MARK = "FASTTEST";
  /** Where the leaking answer's image and link point; set by the test that listens there. */
  volatile int leakPort;
  /** Fast answers start streaming when this completes; a test replaces it before it submits. */
  volatile Promise<Void> fastGate = Promise.promise();
  private final HttpServer server;

  FakeChatProvider(Vertx vertx) {
    server = vertx.createHttpServer().requestHandler(this::handle).listen(0, "127.0.0.1").await();
  }

  /** The worker's backend {@code "fake"}, pointed at this provider. */
  BackendConfig backend() {
    return new BackendConfig("fake", BackendConfig.OPENAI, "http://127.0.0.1:" + server.actualPort(), "fake-model",
      null, 2000, 60_000, 0);
  }

  private void handle(HttpServerRequest req) {
    Context ctx = Vertx.currentContext();
    req.body().onSuccess(body -> {
      String b = body.toString();
      boolean fast = b.contains(FAST_MARK);
      List<String> tokens = b.contains(LEAK_MARK)
        ? List.of("Here ", "is ", "a ", "picture: ", "![x](http://127.0.0.2:" + leakPort + "/leak)", " and ", "[a link](http://127.0.0.2:"
          + leakPort + "/link)", " end.")
        : fast ? longAnswer(20_000) : List.of("fine ", "thanks.");
      HttpServerResponse resp = req.response().setChunked(true).putHeader("content-type", "text/event-stream");
      resp.write(openAi("{\"role\":\"assistant\",\"content\":\"\"}", null));
      (fast ? fastGate.future() : Future.<Void>succeededFuture()).onComplete(go -> ctx.runOnContext(v -> {
        int[] next = {0};
        ctx.owner().setPeriodic(fast ? 10 : 20, id -> {
          for (int k = 0; k < (fast ? 20 : 1) && next[0] < tokens.size(); k++) {
            resp.write(openAi("{\"content\":" + Json.encode(tokens.get(next[0]++)) + "}", null));
          }
          if (next[0] == tokens.size()) {
            ctx.owner().cancelTimer(id);
            resp.write(openAi("{}", "stop"));
            resp.end("data: [DONE]\n\n");
          }
        });
      }));
    });
  }

  private static String openAi(String delta, String finish) {
    return "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"fake-model\",\"choices\":[{\"index\":0,"
      + "\"delta\":" + delta + ",\"finish_reason\":" + (finish == null ? "null" : "\"" + finish + "\"") + "}]}\n\n";
  }

  /** A long Markdown answer of n tokens: paragraphs, headings, lists and code blocks, ending with END-OF-ANSWER. */
  static List<String> longAnswer(int n) {
    String[] words = {"stream ", "token ", "bridge ", "replay ", "sequence ", "chunk ", "gateway ", "worker ", "store ", "frame "};
    List<String> t = new ArrayList<>(n);
    while (t.size() < n - 1) {
      int k = t.size();
      if (k % 1000 == 0) {
        t.add("\n\n## Part " + (k / 1000 + 1) + "\n\n");
      } else if (k % 1000 == 500) {
        t.add("\n\n```java\nint x = " + k + ";\n```\n\n");
      } else if (k % 250 == 17) {
        t.add("\n\n- item " + k + "\n- item " + (k + 1) + "\n\n");
      } else if (k % 60 == 0) {
        t.add("\n\n");
      } else {
        t.add(words[k % words.length]);
      }
    }
    t.add("END-OF-ANSWER");
    return t;
  }
}
