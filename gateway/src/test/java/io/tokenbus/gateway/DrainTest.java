package io.tokenbus.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tokenbus.testing.Patience;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A gateway undeployed (what SIGTERM does) while an SSE stream and a bridge socket follow jobs: readiness goes down,
 * the listener refuses new connections, the SSE stream ends cleanly with a {@code retry:} field, the bridge socket gets
 * {@code err} 503 {@code draining} and is closed, and the drain is over once they are gone, long before its deadline.
 * Before: undeploying closed every connection at once (the SSE body cut mid-chunked-encoding, the socket without an
 * {@code err}) and readiness stayed up (this test then fails at its first readiness check).
 */
class DrainTest {
  private static final GatewayConfig.Drain DRAIN = new GatewayConfig.Drain(8000, 400);
  private Fixture f;

  @BeforeEach
  void start() {
    f = Fixture.start(Fixture.fastWorker(), Fixture.gateway().withDrain(DRAIN));
  }

  @AfterEach
  void stop() {
    f.close();
  }

  @Test
  void clientsAreToldToReconnectElsewhereAndTheNodeStopsTakingConnections() throws Exception {
    JsonObject sseJob = f.silentJob();
    JsonObject bridgeJob = f.silentJob();
    try (Socket sse = new Socket("127.0.0.1", f.port); SockJsClient bridge = f.sockJs()) {
      sse.setSoTimeout(10_000);
      String events = "/api/jobs/" + sseJob.getString("jobId") + "/events?token=" + sseJob.getString("streamToken");
      sse.getOutputStream().write(("GET " + events + " HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
      InputStream in = sse.getInputStream();
      String head = readUntil(in, "retry: 1000\n\n");
      assertTrue(head.startsWith("HTTP/1.1 200"), head);

      String chunk = "job." + bridgeJob.getString("jobId") + ".chunk";
      bridge.register(chunk, bridgeJob.getString("streamToken"));
      String reply = bridge.request("job.replay", new JsonObject().put("jobId", bridgeJob.getString("jobId"))
        .put("token", bridgeJob.getString("streamToken")).put("afterSequence", 0));
      assertEquals(reply, bridge.next().getString("address"), "the replay answer: the socket follows the job");
      assertEquals(200, f.mgmt.get("/health/ready").send().await().statusCode());

      long start = System.nanoTime();
      Future<Void> drained = f.drainGateway();

      // Readiness goes down at once; the listener refuses new connections meanwhile.
      var ready = awaitNotReady();
      assertEquals(503, ready.statusCode());
      assertTrue(ready.bodyAsString().contains("draining"), ready.bodyAsString());
      awaitRefused();

      // SSE: a final retry field and the clean end of the chunked body, then the connection closes.
      String rest = readToEof(in);
      Matcher retry = Pattern.compile("retry: (\\d+)\n\n\r\n0\r\n\r\n").matcher(rest);
      assertTrue(retry.find(), "the stream ends with a retry field and the last chunk: " + rest);
      long retryMs = Long.parseLong(retry.group(1));
      assertTrue(retryMs >= 250 && retryMs <= 1000, "retry " + retryMs);
      assertEquals(rest.length(), retry.end(), "nothing after the end: " + rest);

      // Bridge: err 503 draining (address-less, so the stock client hands it to onerror), then the close.
      JsonObject err = bridge.next();
      assertEquals("err", err.getString("type"), err.encode());
      assertEquals(503, err.getInteger("failureCode"), err.encode());
      assertTrue(err.getString("message").startsWith("draining: "), err.encode());
      assertEquals(null, err.getString("address"));
      assertEquals(SockJsClient.CLOSED, bridge.next());

      drained.await();
      long tookMs = (System.nanoTime() - start) / 1_000_000;
      assertTrue(tookMs < DRAIN.deadlineMs() / 2, "drained in " + tookMs + " ms: it waits for clients, not for the deadline");
    }
  }

  private io.vertx.ext.web.client.HttpResponse<io.vertx.core.buffer.Buffer> awaitNotReady() throws InterruptedException {
    long deadline = System.nanoTime() + Patience.MILLIS * 1_000_000;
    while (true) {
      var r = f.mgmt.get("/health/ready").send().await();
      if (r.statusCode() != 200 || System.nanoTime() > deadline) {
        return r;
      }
      Thread.sleep(20); // polling a probe: there is no event to await
    }
  }

  /** The listener's socket closes a moment after the drain starts (on the acceptor thread). */
  private void awaitRefused() throws InterruptedException {
    long deadline = System.nanoTime() + Patience.MILLIS * 1_000_000;
    while (true) {
      try (Socket s = new Socket()) {
        s.connect(new InetSocketAddress("127.0.0.1", f.port), 2000);
      } catch (ConnectException refused) {
        return;
      } catch (IOException e) {
        throw new AssertionError(e);
      }
      assertTrue(System.nanoTime() < deadline, "a draining gateway still accepts connections after " + Patience.SECONDS + " s");
      Thread.sleep(20); // polling: a closed listener sends no event
    }
  }

  private static String readUntil(InputStream in, String marker) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    while (!out.toString(StandardCharsets.UTF_8).contains(marker)) {
      int b = in.read();
      if (b < 0) {
        throw new AssertionError("connection closed before " + marker + ": " + out.toString(StandardCharsets.UTF_8));
      }
      out.write(b);
    }
    return out.toString(StandardCharsets.UTF_8);
  }

  private static String readToEof(InputStream in) throws IOException {
    return new String(in.readAllBytes(), StandardCharsets.UTF_8);
  }
}
