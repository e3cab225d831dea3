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
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

/**
 * Streaming chat over HTTP with the Vert.x core {@link HttpClient}: timeouts, retries before the first token, the
 * provider's error body on non-200 answers, an idle timeout, pause/resume of the response (backpressure), and cancel
 * by resetting the request, which closes the HTTP/1.1 connection so the provider stops generating. Subclasses speak
 * one wire format.
 *
 * <p>Why the core client and not {@code WebClient}: we need the raw response as a stream we can pause, resume and
 * abort mid-way, with bytes handed to our own decoder as they arrive. {@code WebClient} is built around bodies
 * decoded once complete (streaming only through {@code BodyCodec.pipe} into a {@code WriteStream}); it would add a
 * layer without removing any of the work here. Why not langchain4j: see {@code docs/backends.md}.
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

  /** Whether a 200 answer of this content type is the stream; otherwise its body is read as an error. */
  boolean isStream(String contentType) {
    return true;
  }

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

  /**
   * {model, messages, stream: true}: what both wire formats start from. A partial answer goes last as an assistant
   * message, which Ollama, llama.cpp and (with continue_final_message) vLLM continue rather than answer.
   */
  static JsonObject chatBody(GenerationRequest r) {
    JsonArray messages = new JsonArray();
    r.messages().forEach(m -> messages.add(new JsonObject().put("role", m.role()).put("content", m.content())));
    if (!r.partial().isEmpty()) {
      messages.add(new JsonObject().put("role", "assistant").put("content", r.partial()));
    }
    return new JsonObject().put("model", r.model()).put("messages", messages).put("stream", true);
  }

  /** One completion request, with its retries. Runs on the caller's context. */
  final class Call implements Generation {
    private final GenerationRequest request;
    private final TokenSink sink;
    private HttpClientRequest http;
    private HttpClientResponse response;
    private boolean responseEnded;
    private long idleTimer = -1;
    private long retryTimer = -1;
    private long lastActivity;
    private int attempt;
    private boolean gotToken;
    private boolean paused;
    private boolean done;

    Call(GenerationRequest request, TokenSink sink) {
      this.request = request;
      this.sink = sink;
    }

    boolean isDone() {
      return done;
    }

    void send() {
      RequestOptions o = new RequestOptions().setMethod(HttpMethod.POST).setAbsoluteURI(config.baseUrl() + path())
        .putHeader("content-type", "application/json").putHeader("accept", "application/x-ndjson, text/event-stream");
      if (config.apiKey() != null && !config.apiKey().isBlank()) {
        o.putHeader("authorization", "Bearer " + config.apiKey());
      }
      http = null;
      response = null;
      responseEnded = false;
      startIdle();
      client.request(o).compose(req -> {
        http = req;
        if (done) {
          req.reset(); // cancelled while connecting
          return Future.failedFuture("cancelled");
        }
        return req.send(body(request).toBuffer());
      }).onComplete(ar -> {
        if (done) {
          if (ar.succeeded()) {
            ar.result().request().reset(); // answered after a cancel: drop the connection
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
      lastActivity = System.nanoTime();
      if (r.statusCode() != 200 || !isStream(r.getHeader("content-type"))) {
        readError(r);
      } else {
        Parser parser = parser(this);
        r.handler(b -> {
          if (done) {
            return;
          }
          lastActivity = System.nanoTime();
          try {
            parser.feed(b);
          } catch (RuntimeException e) {
            unreadable(e);
          }
        });
        r.endHandler(v -> {
          responseEnded = true;
          if (!done) {
            try {
              parser.end();
            } catch (RuntimeException e) {
              unreadable(e);
            }
          }
        });
        r.exceptionHandler(e -> fail(JobError.BACKEND_STREAM_CUT, config.name() + " stream broke: " + e.getMessage()));
      }
      if (paused) {
        r.pause();
      }
    }

    /** A stream the parser could not read: what was wrong and the start of it, on one line (never parser internals). */
    private void unreadable(RuntimeException e) {
      fail(JobError.BACKEND_PROTOCOL_ERROR, config.name() + " sent " + (e instanceof UnreadableStream ? e.getMessage()
        : "an unreadable stream: " + UnreadableStream.excerpt(String.valueOf(e.getMessage()))));
    }

    /** A non-200 answer (or a 200 that is not a stream): read the bounded body for the provider's message. */
    private void readError(HttpClientResponse r) {
      Buffer body = Buffer.buffer();
      r.handler(b -> {
        lastActivity = System.nanoTime();
        int room = MAX_ERROR_BODY - body.length();
        if (room > 0) {
          body.appendBuffer(b, 0, Math.min(room, b.length()));
        }
      });
      r.endHandler(v -> {
        responseEnded = true;
        int status = r.statusCode();
        if (status == 200) {
          String text = body.toString();
          boolean error = text.contains("\"error\"");
          fail(error ? JobError.BACKEND_HTTP_ERROR : JobError.BACKEND_PROTOCOL_ERROR, config.name() + " answered "
            + r.getHeader("content-type") + " instead of a stream: " + (error ? ProviderErrors.text(text) : UnreadableStream.excerpt(text.strip())));
          return;
        }
        String msg = config.name() + " answered HTTP " + status + ": " + ProviderErrors.text(body.toString());
        if (status == 429 || status >= 500) {
          retryOr(JobError.BACKEND_HTTP_ERROR, msg, RetryAfter.millis(r.getHeader("retry-after"), System.currentTimeMillis()));
        } else {
          fail(JobError.BACKEND_HTTP_ERROR, msg);
        }
      });
      r.exceptionHandler(e -> fail(JobError.BACKEND_HTTP_ERROR, config.name() + " answered HTTP " + r.statusCode()
        + " and broke off: " + e.getMessage()));
    }

    private void retryOr(String code, String message) {
      retryOr(code, message, -1);
    }

    /** @param retryAfterMs what the provider's Retry-After asks for; -1: it said nothing, use our backoff */
    private void retryOr(String code, String message, long retryAfterMs) {
      if (done) {
        return;
      }
      if (!gotToken && attempt < config.retries()) {
        if (retryAfterMs > config.maxRetryAfterSeconds() * 1000L) {
          // Retrying sooner than asked only earns another refusal; waiting that long would stall the job: fail now.
          fail(code, message + "; the provider asked to wait " + (retryAfterMs + 999) / 1000 + " s, more than the "
            + config.maxRetryAfterSeconds() + " s budget (maxRetryAfterSeconds)");
          return;
        }
        attempt++;
        cancelIdle();
        // Backoff 200 ms, 400 ms, 800 ms...: enough for a restarting server, short for a person waiting.
        long delay = retryAfterMs >= 0 ? retryAfterMs : 200L << Math.min(5, attempt - 1);
        retryTimer = vertx.setTimer(Math.max(1, delay), id -> {
          retryTimer = -1;
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

    void reasoning(String text) {
      if (!done && !text.isEmpty()) {
        gotToken = true; // streamed to the client too: never retried after it
        sink.onReasoning(text);
      }
    }

    void end() {
      if (!done) {
        done = true;
        releaseTimers();
        if (response != null && !responseEnded) {
          response.resume(); // drain what follows the end marker so the connection goes back to the pool
        }
        sink.onEnd();
      }
    }

    void fail(String code, String message) {
      if (!done) {
        abort();
        sink.onError(new BackendException(code, message));
      }
    }

    @Override
    public void cancel() {
      if (!done) {
        abort();
      }
    }

    /** Ends the call without telling the sink: timers released, an unfinished exchange reset (connection closed). */
    private void abort() {
      done = true;
      releaseTimers();
      if (http != null && !responseEnded) {
        http.reset();
      }
    }

    private void releaseTimers() {
      cancelIdle();
      if (retryTimer >= 0) {
        vertx.cancelTimer(retryTimer);
        retryTimer = -1;
      }
    }

    /**
     * One timer per idle period, not one per chunk: data only stamps {@code lastActivity}; when the timer fires it
     * either fails the call or re-arms for the rest of the period.
     */
    private void startIdle() {
      cancelIdle();
      lastActivity = System.nanoTime();
      armIdle(config.idleTimeoutMs());
    }

    private void armIdle(long delayMs) {
      idleTimer = vertx.setTimer(Math.max(1, delayMs), id -> {
        idleTimer = -1;
        if (done || paused) {
          return;
        }
        long idleMs = (System.nanoTime() - lastActivity) / 1_000_000;
        if (idleMs >= config.idleTimeoutMs()) {
          fail(JobError.BACKEND_IDLE_TIMEOUT, config.name() + " sent nothing for " + idleMs + " ms (idle timeout "
            + config.idleTimeoutMs() + " ms)");
        } else {
          armIdle(config.idleTimeoutMs() - idleMs);
        }
      });
    }

    private void cancelIdle() {
      if (idleTimer >= 0) {
        vertx.cancelTimer(idleTimer);
        idleTimer = -1;
      }
    }

    @Override
    public void pause() {
      if (paused) {
        return;
      }
      paused = true;
      cancelIdle(); // silence we asked for is not a stall
      if (response != null) {
        response.pause();
      }
    }

    @Override
    public void resume() {
      if (!paused) {
        return;
      }
      paused = false;
      if (done) {
        return;
      }
      if (retryTimer < 0) {
        startIdle();
      }
      if (response != null) {
        response.resume();
      }
    }
  }
}
