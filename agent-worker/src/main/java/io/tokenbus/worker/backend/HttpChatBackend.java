package io.tokenbus.worker.backend;

import io.tokenbus.events.JobError;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

/**
 * Streaming chat over HTTP with the Vert.x client (non-blocking): timeouts, retries before the first token, the
 * provider's error body on non-200 answers, idle timeout, pause/resume of the response (backpressure), and cancel by
 * resetting the request, which closes the connection so the provider stops generating. Subclasses speak one wire
 * format.
 */
abstract class HttpChatBackend implements ModelBackend {
  static final int MAX_LINE_BYTES = 1 << 20;
  static final int MAX_ERROR_BODY = 8192;

  protected final Vertx vertx;
  protected final BackendConfig config;
  private final HttpClient client;

  HttpChatBackend(Vertx vertx, BackendConfig config, int maxConnections) {
    this.vertx = vertx;
    this.config = config;
    this.client = vertx.createHttpClient(new HttpClientOptions().setConnectTimeout(config.connectTimeoutMs())
      .setKeepAlive(true), new PoolOptions().setHttp1MaxSize(maxConnections));
  }

  @Override
  public String name() {
    return config.name();
  }

  @Override
  public String defaultModel() {
    return config.model();
  }

  @Override
  public Future<Void> close() {
    return client.close();
  }

  abstract String path();

  abstract JsonObject body(GenerationRequest request);

  /** A parser for one response: gets raw bytes, reports tokens, the end, or failures through the call. */
  abstract Parser parser(Call call);

  interface Parser {
    void feed(Buffer bytes);

    /** The response ended; the parser decides whether that was a proper end or a cut. */
    void end();
  }

  @Override
  public Generation generate(GenerationRequest request, TokenSink sink) {
    Call c = new Call(request, sink);
    c.send();
    return c;
  }

  /** {model, messages, stream: true}: what both wire formats start from. */
  static JsonObject chatBody(GenerationRequest r) {
    JsonArray messages = new JsonArray();
    r.messages().forEach(m -> messages.add(new JsonObject().put("role", m.role()).put("content", m.content())));
    return new JsonObject().put("model", r.model()).put("messages", messages).put("stream", true);
  }

  /** The provider's error text from a JSON error body ({"error": "..."} or {"error": {"message": ...}}) or raw text. */
  static String errorText(String body) {
    try {
      JsonObject j = new JsonObject(body);
      Object e = j.getValue("error");
      if (e instanceof JsonObject o && o.getValue("message") != null) {
        return String.valueOf(o.getValue("message"));
      }
      if (e != null) {
        return String.valueOf(e);
      }
      if (j.getValue("message") != null) {
        return String.valueOf(j.getValue("message"));
      }
    } catch (DecodeException | ClassCastException notJson) {
      // plain text answer
    }
    return body.length() > 500 ? body.substring(0, 500) + "…" : body;
  }

  /** One completion request, with its retries. Runs on the caller's context. */
  final class Call implements Generation {
    private final GenerationRequest request;
    private final TokenSink sink;
    private HttpClientRequest http;
    private HttpClientResponse response;
    private long idleTimer = -1;
    private int attempt;
    private boolean gotToken;
    private boolean paused;
    private boolean done;

    Call(GenerationRequest request, TokenSink sink) {
      this.request = request;
      this.sink = sink;
    }

    void send() {
      RequestOptions o = new RequestOptions().setMethod(HttpMethod.POST).setAbsoluteURI(config.baseUrl() + path())
        .putHeader("content-type", "application/json").putHeader("accept", "application/x-ndjson, text/event-stream");
      if (config.apiKey() != null && !config.apiKey().isBlank()) {
        o.putHeader("authorization", "Bearer " + config.apiKey());
      }
      armIdle();
      client.request(o).compose(req -> {
        http = req;
        if (done) {
          req.reset();
        }
        return req.send(body(request).toBuffer());
      }).onComplete(ar -> {
        if (done) {
          if (ar.succeeded()) {
            ar.result().request().reset();
          }
          return;
        }
        if (ar.failed()) {
          retryOr(JobError.BACKEND_UNREACHABLE, config.name() + " unreachable at " + config.baseUrl() + ": " + ar.cause().getMessage());
          return;
        }
        onResponse(ar.result());
      });
    }

    private void onResponse(HttpClientResponse r) {
      response = r;
      if (r.statusCode() != 200) {
        Buffer body = Buffer.buffer();
        r.handler(b -> {
          if (body.length() < MAX_ERROR_BODY) {
            body.appendBuffer(b.length() > MAX_ERROR_BODY ? b.getBuffer(0, MAX_ERROR_BODY) : b);
          }
        });
        r.endHandler(v -> {
          String msg = config.name() + " answered HTTP " + r.statusCode() + ": " + errorText(body.toString());
          if (r.statusCode() == 429 || r.statusCode() >= 500) {
            retryOr(JobError.BACKEND_HTTP_ERROR, msg);
          } else {
            fail(JobError.BACKEND_HTTP_ERROR, msg);
          }
        });
        r.exceptionHandler(e -> fail(JobError.BACKEND_HTTP_ERROR, config.name() + " answered HTTP " + r.statusCode()));
        return;
      }
      Parser parser = parser(this);
      r.handler(b -> {
        if (done) {
          return;
        }
        armIdle();
        try {
          parser.feed(b);
        } catch (RuntimeException e) {
          fail(JobError.BACKEND_PROTOCOL_ERROR, config.name() + " sent an unreadable stream: " + e.getMessage());
        }
      });
      r.endHandler(v -> {
        if (!done) {
          parser.end();
        }
      });
      r.exceptionHandler(e -> fail(JobError.BACKEND_STREAM_CUT, config.name() + " stream broke: " + e.getMessage()));
      if (paused) {
        r.pause();
      }
    }

    private void retryOr(String code, String message) {
      if (!gotToken && attempt < config.retries()) {
        attempt++;
        cancelIdle();
        // Backoff 200 ms, 400 ms, 800 ms...: enough for a restarting server, short for a person waiting.
        vertx.setTimer(200L << Math.min(5, attempt - 1), id -> {
          if (!done) {
            send();
          }
        });
        return;
      }
      fail(code, message);
    }

    void token(String text) {
      if (!done && !text.isEmpty()) {
        gotToken = true;
        sink.onToken(text);
      }
    }

    void end() {
      if (!done) {
        done = true;
        cancelIdle();
        sink.onEnd();
      }
    }

    void fail(String code, String message) {
      if (!done) {
        done = true;
        cancelIdle();
        if (http != null) {
          http.reset();
        }
        sink.onError(new BackendException(code, message));
      }
    }

    private void armIdle() {
      cancelIdle();
      if (!paused) {
        idleTimer = vertx.setTimer(config.idleTimeoutMs(), id -> {
          idleTimer = -1;
          fail(JobError.BACKEND_IDLE_TIMEOUT, config.name() + " sent nothing for " + config.idleTimeoutMs() + " ms");
        });
      }
    }

    private void cancelIdle() {
      if (idleTimer >= 0) {
        vertx.cancelTimer(idleTimer);
        idleTimer = -1;
      }
    }

    @Override
    public void pause() {
      paused = true;
      cancelIdle(); // silence we asked for is not a stall
      if (response != null) {
        response.pause();
      }
    }

    @Override
    public void resume() {
      paused = false;
      if (!done) {
        armIdle();
      }
      if (response != null) {
        response.resume();
      }
    }

    @Override
    public void cancel() {
      if (!done) {
        done = true;
        cancelIdle();
        if (http != null) {
          http.reset(); // closes the HTTP/1.1 connection: the provider stops generating
        }
      }
    }
  }
}
