package io.tokenbus.gateway.api;

import io.tokenbus.events.ErrorCode;
import io.tokenbus.events.TokenbusException;
import io.vertx.core.internal.logging.Logger;
import io.vertx.core.internal.logging.LoggerFactory;
import io.vertx.ext.web.RoutingContext;

/** Writes every failure as {@code status + {"error": code, "message"}}; logs only what is the server's fault. */
public final class HttpErrors {
  private static final Logger log = LoggerFactory.getLogger(HttpErrors.class);

  /** Routing-context key of the error code a request was answered with (read by the metrics). */
  public static final String CODE = "tokenbus.error";

  private HttpErrors() {}

  public static void fail(RoutingContext ctx, Throwable t) {
    TokenbusException e = TokenbusException.from(t);
    ctx.put(CODE, e.code());
    if (e.code().status >= 500 && e.code() != ErrorCode.DRAINING) { // a drain is planned, not a fault
      log.warn(ctx.request().method() + " " + ctx.request().path() + " failed: " + e.code().id + ": " + e.getMessage());
    }
    if (ctx.response().headWritten()) {
      ctx.response().reset();
      return;
    }
    ctx.response().setStatusCode(e.code().status).putHeader("content-type", "application/json")
      .end(e.toJson().encode());
  }

  /** Router failure handler: body too large (from BodyHandler), unexpected exceptions. */
  public static void routerFailure(RoutingContext ctx) {
    if (ctx.statusCode() == 413) {
      fail(ctx, new TokenbusException(ErrorCode.PAYLOAD_TOO_LARGE, "request body is larger than the configured limit"));
    } else if (ctx.failure() != null) {
      fail(ctx, ctx.failure());
    } else if (ctx.statusCode() == 404) {
      fail(ctx, new TokenbusException(ErrorCode.NOT_FOUND, "no such resource"));
    } else {
      fail(ctx, new TokenbusException(ctx.statusCode() >= 500 ? ErrorCode.INTERNAL : ErrorCode.INVALID_REQUEST,
        "request failed with status " + ctx.statusCode()));
    }
  }
}
