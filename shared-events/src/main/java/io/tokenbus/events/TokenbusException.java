package io.tokenbus.events;

import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import io.vertx.core.json.JsonObject;

/**
 * A failure with a code a caller can act on. Travels over the event bus as a {@link ReplyException} whose
 * {@code failureCode} is the HTTP status and whose message is {@code "<code id>: <text>"}.
 */
public final class TokenbusException extends RuntimeException {
  private final ErrorCode code;

  public TokenbusException(ErrorCode code, String message) {
    super(message, null, false, false);
    this.code = code;
  }

  public ErrorCode code() {
    return code;
  }

  public JsonObject toJson() {
    return new JsonObject().put("error", code.id).put("message", getMessage());
  }

  public ReplyException toReply() {
    return new ReplyException(ReplyFailure.RECIPIENT_FAILURE, code.status, code.id + ": " + getMessage());
  }

  /** Maps any failure (including event-bus reply failures) back to a coded one. */
  public static TokenbusException from(Throwable t) {
    if (t instanceof TokenbusException te) {
      return te;
    }
    if (t instanceof ReplyException re) {
      switch (re.failureType()) {
        case NO_HANDLERS:
          return new TokenbusException(ErrorCode.NO_WORKER, "no service is listening: " + re.getMessage());
        case TIMEOUT:
          return new TokenbusException(ErrorCode.TIMEOUT, "no answer in time: " + re.getMessage());
        default:
          String msg = String.valueOf(re.getMessage());
          int sep = msg.indexOf(": ");
          if (sep > 0) {
            ErrorCode code = ErrorCode.fromId(msg.substring(0, sep));
            return new TokenbusException(code, msg.substring(sep + 2));
          }
          return new TokenbusException(ErrorCode.INTERNAL, msg);
      }
    }
    return new TokenbusException(ErrorCode.INTERNAL, String.valueOf(t.getMessage()));
  }

  public static TokenbusException invalid(String message) {
    return new TokenbusException(ErrorCode.INVALID_REQUEST, message);
  }
}
