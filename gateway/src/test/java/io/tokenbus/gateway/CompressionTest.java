package io.tokenbus.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tokenbus.events.Addresses;
import io.vertx.core.json.JsonObject;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Compression on: gzip SSE still delivers every event as it is produced (the compressor flushes per write), JSON
 * answers are gzipped for clients that ask, and the bridge websocket negotiates permessage-deflate and streams every
 * chunk. Compression off: nothing is compressed even when a client asks.
 */
class CompressionTest {
  /** Four tokens a second: a compressor that held output back would deliver them together, at the end. */
  private static final int TOKENS = 12;
  private static Fixture f;

  @BeforeAll
  static void start() {
    f = Fixture.start(Fixture.fastWorker().withLocalGenerator(4, TOKENS),
      Fixture.gateway().withCompression(new GatewayConfig.Compression(6, 6)));
  }

  @AfterAll
  static void stop() {
    f.close();
  }

  private static String events(JsonObject job) {
    return "/api/jobs/" + job.getString("jobId") + "/events?token=" + job.getString("streamToken");
  }

  /** HTTP/1.1 as browsers speak to the gateway (no h2c upgrade attempt). */
  private static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

  private static HttpResponse<InputStream> get(int port, String path, String acceptEncoding) throws Exception {
    return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
      .header("accept-encoding", acceptEncoding).build(), HttpResponse.BodyHandlers.ofInputStream());
  }

  private record Arrival(long sequence, long producedAt, long receivedAt) {}

  @Test
  void gzipSseDeliversEachEventBeforeTheNextIsProduced() throws Exception {
    // A cold client can take seconds to make its first request on a busy machine: the job would be over and
    // replayed in one piece before the stream opened, proving nothing. Warm it first.
    get(f.port, "/api/ping", "gzip").body().close();
    JsonObject job = f.submit("compressed sse");
    HttpResponse<InputStream> r = get(f.port, events(job), "gzip");
    assertEquals(200, r.statusCode());
    assertEquals("gzip", r.headers().firstValue("content-encoding").orElse(null), "the stream is compressed");
    List<Arrival> chunks = new ArrayList<>();
    String terminal = null;
    // java.net.http + GZIPInputStream: an independent client. Lines are split here, not by an InputStreamReader,
    // which keeps reading while the stream reports bytes available (an InflaterInputStream always does) and so would
    // hold lines back itself.
    try (InputStream in = new GZIPInputStream(r.body(), 64)) {
      String event = null;
      java.io.ByteArrayOutputStream line = new java.io.ByteArrayOutputStream();
      byte[] buf = new byte[8192];
      for (int n; (n = in.read(buf)) > 0; ) {
        for (int i = 0; i < n; i++) {
          if (buf[i] != '\n') {
            line.write(buf[i]);
            continue;
          }
          String l = line.toString(StandardCharsets.UTF_8);
          line.reset();
          if (l.startsWith("event: ")) {
            event = l.substring(7);
          } else if (l.startsWith("data: ") && "model:chunk".equals(event)) {
            JsonObject c = new JsonObject(l.substring(6));
            chunks.add(new Arrival(c.getLong("sequence"), c.getLong("timestamp"), System.currentTimeMillis()));
          } else if (l.startsWith("data: ") && event != null && event.startsWith("job:") && !"job:progress".equals(event)) {
            terminal = event;
          }
        }
      }
    }
    assertEquals("job:completed", terminal, "the compressed stream ends with its terminal event");
    assertEquals(TOKENS, chunks.size());
    for (int i = 0; i < chunks.size(); i++) {
      assertEquals(i + 1, chunks.get(i).sequence(), "dense, in order");
    }
    // Each chunk is produced 250 ms after the one before. Streamed per event, almost every chunk is read before its
    // successor exists; held by the compressor, none would be (a loaded machine may delay a few, and the first ones
    // may come together in the replay that opens the stream).
    int beforeNext = 0;
    for (int i = 0; i + 1 < chunks.size(); i++) {
      if (chunks.get(i).receivedAt() < chunks.get(i + 1).producedAt()) {
        beforeNext++;
      }
    }
    assertTrue(beforeNext >= (TOKENS - 1) / 2, "chunks read before the next was produced: " + beforeNext + " of " + (TOKENS - 1)
      + " " + chunks);
    long last = chunks.get(chunks.size() - 1).producedAt();
    assertTrue(chunks.get(0).receivedAt() < last - 1000, "the first chunk arrived long before the job ended: " + chunks);
  }

  @Test
  void jsonAnswersAreGzippedOnlyForClientsThatAsk() throws Exception {
    JsonObject job = f.submit("compressed json");
    String path = "/api/jobs/" + job.getString("jobId") + "/chunks?after=0&token=" + job.getString("streamToken");
    HttpResponse<InputStream> gz = get(f.port, path, "gzip");
    assertEquals(200, gz.statusCode());
    assertEquals("gzip", gz.headers().firstValue("content-encoding").orElse(null));
    try (InputStream in = new GZIPInputStream(gz.body())) {
      assertTrue(new JsonObject(new String(in.readAllBytes(), StandardCharsets.UTF_8)).containsKey("chunks"));
    }
    HttpResponse<InputStream> plain = get(f.port, path, "identity");
    assertEquals(200, plain.statusCode());
    assertTrue(plain.headers().firstValue("content-encoding").isEmpty(), "no encoding nobody asked for");
    try (InputStream in = plain.body()) {
      assertTrue(new JsonObject(new String(in.readAllBytes(), StandardCharsets.UTF_8)).containsKey("chunks"));
    }
  }

  @Test
  void bridgeNegotiatesPermessageDeflateAndStreamsEveryChunkOnce() {
    JsonObject job = f.submit("compressed bridge");
    String jobId = job.getString("jobId");
    String token = job.getString("streamToken");
    try (SockJsClient c = SockJsClient.connect(f.clientVertx, f.port, null, true)) {
      assertTrue(c.extensions != null && c.extensions.contains("permessage-deflate"), "negotiated: " + c.extensions);
      c.register(Addresses.chunk(jobId), token);
      c.register(Addresses.status(jobId), token);
      String replay = c.request(Addresses.JOB_REPLAY, new JsonObject().put("jobId", jobId).put("token", token).put("afterSequence", 0));
      BridgeStreamTest.Received r = BridgeStreamTest.collect(c, jobId, replay);
      assertEquals("job:completed", r.status.getString("type"));
      BridgeStreamTest.assertExactlyOnce(r, 1, r.status.getLong("lastSequence"));
      assertEquals(r.status.getString("result"), r.text());
    }
  }

  @Test
  void offMeansNothingIsCompressedEvenWhenAsked() throws Exception {
    try (Fixture off = Fixture.start(Fixture.fastWorker(), Fixture.gateway()
      .withCompression(new GatewayConfig.Compression(0, 0)))) {
      JsonObject job = off.submit("plain");
      HttpResponse<InputStream> r = get(off.port, events(job), "gzip");
      assertEquals(200, r.statusCode());
      assertTrue(r.headers().firstValue("content-encoding").isEmpty(), "plain SSE");
      r.body().close();
      try (SockJsClient c = SockJsClient.connect(off.clientVertx, off.port, null, true)) {
        assertNull(c.extensions, "no websocket extension");
      }
    }
  }
}
