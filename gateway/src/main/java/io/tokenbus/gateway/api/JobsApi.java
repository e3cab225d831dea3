package io.tokenbus.gateway.api;

import io.tokenbus.events.ErrorCode;
import io.tokenbus.events.JobRequest;
import io.tokenbus.events.TokenbusException;
import io.tokenbus.gateway.jobs.JobService;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;

/** The v1 HTTP API under {@code /api/jobs} (see docs/protocol.md). SSE lives in {@code SseEndpoint}. */
public final class JobsApi {
  private final JobService jobs;
  private final RateLimiter submits;

  private final java.util.function.Function<RoutingContext, String> clients;

  /** @param clients who a request comes from, for the per-client submission limit */
  public JobsApi(JobService jobs, RateLimiter submits, java.util.function.Function<RoutingContext, String> clients) {
    this.clients = clients;
    this.jobs = jobs;
    this.submits = submits;
  }

  public void mount(Router router) {
    router.post("/api/jobs").handler(this::submit);
    router.get("/api/jobs/:id").handler(this::status);
    router.post("/api/jobs/:id/cancel").handler(this::cancel);
    router.get("/api/jobs/:id/chunks").handler(this::chunks);
  }

  private void submit(RoutingContext ctx) {
    JobRequest request;
    try {
      if (!submits.tryAcquire(clients.apply(ctx))) {
        throw new TokenbusException(ErrorCode.RATE_LIMITED, "too many submissions from this client; try again shortly");
      }
      request = JobRequest.fromJson(jsonBody(ctx));
    } catch (TokenbusException e) {
      HttpErrors.fail(ctx, e);
      return;
    }
    jobs.submit(request).onComplete(ar -> {
      if (ar.failed()) {
        HttpErrors.fail(ctx, ar.cause());
      } else {
        ctx.response().setStatusCode(202).putHeader("content-type", "application/json").end(ar.result().encode());
      }
    });
  }

  private void status(RoutingContext ctx) {
    jobs.authorizedRead(ctx.pathParam("id"), token(ctx), 0, io.tokenbus.events.internal.ReplayRequest.STATE_ONLY).onComplete(ar -> {
      if (ar.failed()) {
        HttpErrors.fail(ctx, ar.cause());
      } else {
        json(ctx, ar.result().toStatusJson());
      }
    });
  }

  private void cancel(RoutingContext ctx) {
    jobs.cancel(ctx.pathParam("id"), token(ctx)).onComplete(ar -> {
      if (ar.failed()) {
        HttpErrors.fail(ctx, ar.cause());
      } else {
        ctx.response().setStatusCode(202).putHeader("content-type", "application/json")
          .end(new JsonObject().put("ok", true).put("jobId", ar.result().jobId()).encode());
      }
    });
  }

  private void chunks(RoutingContext ctx) {
    long after;
    try {
      after = longParam(ctx.queryParams().get("after"), "after");
    } catch (TokenbusException e) {
      HttpErrors.fail(ctx, e);
      return;
    }
    jobs.authorizedRead(ctx.pathParam("id"), token(ctx), after, Integer.MAX_VALUE).onComplete(ar -> {
      if (ar.failed()) {
        HttpErrors.fail(ctx, ar.cause());
      } else {
        ctx.response().putHeader("content-type", "application/json").end(ar.result().replayJsonBytes());
      }
    });
  }

  private static void json(RoutingContext ctx, JsonObject body) {
    ctx.response().putHeader("content-type", "application/json").end(body.encode());
  }

  static JsonObject jsonBody(RoutingContext ctx) {
    String ct = ctx.request().getHeader("content-type");
    if (ct != null && !ct.toLowerCase().startsWith("application/json")) {
      throw new TokenbusException(ErrorCode.INVALID_REQUEST, "content-type must be application/json");
    }
    if (ctx.body() == null || ctx.body().buffer() == null || ctx.body().length() == 0) {
      throw new TokenbusException(ErrorCode.INVALID_JSON, "request body must be a JSON object");
    }
    try {
      Object v = io.vertx.core.json.Json.decodeValue(ctx.body().buffer());
      if (v instanceof JsonObject o) {
        return o;
      }
    } catch (DecodeException e) {
      throw new TokenbusException(ErrorCode.INVALID_JSON, "request body is not valid JSON");
    }
    throw new TokenbusException(ErrorCode.INVALID_JSON, "request body must be a JSON object");
  }

  /** Bearer header first, then {@code ?token=} (EventSource cannot set headers). */
  public static String token(RoutingContext ctx) {
    String auth = ctx.request().getHeader("authorization");
    if (auth != null && auth.regionMatches(true, 0, "Bearer ", 0, 7)) {
      return auth.substring(7).trim();
    }
    return ctx.queryParams().get("token");
  }

  public static long longParam(String v, String name) {
    if (v == null || v.isEmpty()) {
      return 0;
    }
    try {
      long l = Long.parseLong(v.trim());
      if (l < 0) {
        throw new NumberFormatException();
      }
      return l;
    } catch (NumberFormatException e) {
      throw TokenbusException.invalid(name + " must be a non-negative integer");
    }
  }
}
