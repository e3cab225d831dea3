package io.tokenbus.checkpoint;

import io.vertx.core.Promise;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;

/** A command waiting for its answer; {@code queuedAt} (nanoTime) starts its deadline. */
record Pending(Request request, Promise<Response> promise, long queuedAt) {
}
