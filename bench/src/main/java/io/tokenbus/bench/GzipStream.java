package io.tokenbus.bench;

import io.vertx.core.buffer.Buffer;
import java.util.zip.DataFormatException;
import java.util.zip.Inflater;

/**
 * Inflates a gzip response body piece by piece as it arrives, so each SSE event is seen as soon as its bytes are:
 * the bench reads the compressed bytes itself (rather than letting the HTTP client decompress) so it knows the server
 * really answered with gzip.
 */
final class GzipStream {
  private static final int HEADER = 10; // magic, method, flags, mtime, xfl, os: what Netty's encoder writes
  private final Inflater inflater = new Inflater(true);
  private final byte[] out = new byte[16 * 1024];
  private int headerLeft = HEADER;

  Buffer inflate(Buffer compressed) {
    byte[] in = compressed.getBytes();
    int from = 0;
    if (headerLeft > 0) {
      if (headerLeft == HEADER && in.length > 3 && in[3] != 0) {
        throw new IllegalStateException("gzip header with optional fields is not supported by the bench");
      }
      from = Math.min(headerLeft, in.length);
      headerLeft -= from;
    }
    Buffer plain = Buffer.buffer();
    if (inflater.finished() || from == in.length) {
      return plain; // the trailer (CRC, size) or header bytes only
    }
    inflater.setInput(in, from, in.length - from);
    try {
      int n;
      while ((n = inflater.inflate(out)) > 0) {
        plain.appendBytes(out, 0, n);
      }
    } catch (DataFormatException e) {
      throw new IllegalStateException("corrupt gzip stream", e);
    }
    return plain;
  }
}
