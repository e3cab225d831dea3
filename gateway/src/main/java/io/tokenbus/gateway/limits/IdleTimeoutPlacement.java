package io.tokenbus.gateway.limits;

import io.netty.channel.ChannelPipeline;
import io.netty.handler.timeout.IdleStateHandler;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.net.impl.ConnectionBase;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Keeps the HTTP idle timeout behind the HTTP decoder when compression is on, so that only complete messages count as
 * activity (see {@link HeaderDeadlines}: after the first request the idle timeout is what closes a connection that
 * trickles its next request head).
 *
 * <p>With compression Vert.x 5.0.7 disables FileRegion and adds a {@code ChunkedWriteHandler} after the
 * {@code IdleStateHandler}, then inserts the HTTP codecs in front of that handler: the idle handler ends up ahead of the
 * decoder, where every raw byte is activity, and a head trickled a byte at a time would hold a kept-alive connection
 * open for ever. It is moved to where it sits without compression: after the codecs.
 */
public final class IdleTimeoutPlacement {
  private static final String IDLE = "idle";
  private static final String DECODER = "httpDecoder";

  private IdleTimeoutPlacement() {}

  /** {@code HttpServer.connectionHandler}: runs before the connection's first request is handled. */
  public static void behindTheDecoder(HttpConnection connection) {
    if (!(connection instanceof ConnectionBase base)) {
      return; // not an HTTP/1.x connection of this Vert.x version: nothing known to fix
    }
    ChannelPipeline pipeline = base.channel().pipeline();
    List<String> names = pipeline.names();
    int idle = names.indexOf(IDLE);
    int decoder = names.indexOf(DECODER);
    if (idle < 0 || decoder < 0 || idle > decoder) {
      return;
    }
    // A Netty handler cannot be added twice: a new one with the same timeouts replaces it.
    IdleStateHandler old = (IdleStateHandler) pipeline.remove(IDLE);
    String before = pipeline.get("chunkedWriter") != null ? "chunkedWriter" : "handler";
    pipeline.addBefore(before, IDLE, new IdleStateHandler(old.getReaderIdleTimeInMillis(), old.getWriterIdleTimeInMillis(),
      old.getAllIdleTimeInMillis(), TimeUnit.MILLISECONDS));
  }
}
