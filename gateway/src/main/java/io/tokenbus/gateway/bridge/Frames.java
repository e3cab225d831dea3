package io.tokenbus.gateway.bridge;

import io.tokenbus.events.TokenbusException;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;

/**
 * Frames of the Vert.x event-bus bridge protocol (as spoken by {@code @vertx/eventbus-bridge-client.js}): {@code rec}
 * delivers a message to a registered address or a reply address, {@code err} reports a failure; with an address the
 * client routes it to that handler or reply callback, without one to {@code onerror}.
 */
final class Frames {
  private Frames() {}

  /** {@code {"type":"rec","address":A,"body":} + json + {@code }}: built by concatenation to reuse encoded bodies. */
  static Buffer rec(String address, String bodyJson) {
    return Buffer.buffer("{\"type\":\"rec\",\"address\":" + quote(address) + ",\"body\":" + bodyJson + "}");
  }

  /** {@link #rec(String, String)} around a body already encoded as UTF-8 JSON (a replay page). */
  static Buffer rec(String address, Buffer bodyJson) {
    return Buffer.buffer(bodyJson.length() + 64).appendString("{\"type\":\"rec\",\"address\":").appendString(quote(address))
      .appendString(",\"body\":").appendBuffer(bodyJson).appendByte((byte) '}');
  }

  static Buffer reply(String replyAddress, JsonObject body) {
    return rec(replyAddress, body.encode());
  }

  static Buffer err(String address, TokenbusException e) {
    JsonObject f = new JsonObject().put("type", "err").put("failureCode", e.code().status)
      .put("failureType", "RECIPIENT_FAILURE").put("message", e.code().id + ": " + e.getMessage());
    if (address != null) {
      f.put("address", address);
    }
    return f.toBuffer();
  }

  /** The bridge's own address-less error, e.g. {@code invalid_json}, {@code access_denied}. */
  static Buffer err(String body) {
    return new JsonObject().put("type", "err").put("body", body).toBuffer();
  }

  private static String quote(String s) {
    return io.vertx.core.json.Json.encode(s);
  }
}
