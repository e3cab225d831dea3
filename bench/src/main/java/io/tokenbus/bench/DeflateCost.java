package io.tokenbus.bench;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.charset.StandardCharsets;
import java.util.zip.CRC32;
import java.util.zip.Deflater;

/**
 * What compression adds per event, measured in isolation: the thread CPU time of deflating one stream's events one
 * at a time with a sync flush after each (what Netty's gzip encoder does per SSE write, and permessage-deflate per
 * websocket message), and the bytes that come out. Thread CPU time, not wall time, so other load on the machine
 * barely moves it. The events have the gateway's exact shapes (SSE {@code model:chunk}, and the SockJS {@code a[...]}
 * frame of a bridge {@code rec}) with one word per token.
 *
 * <p>{@code java -cp bench/target/tokenbus-bench.jar io.tokenbus.bench.DeflateCost [EVENTS=200000] [TOKENS_PER_EVENT=1]}
 */
public final class DeflateCost {
  private static final String[] WORDS = ("Streaming a model's answer token by token means every small piece of text is"
    + " sent as its own event, so the framing around each token weighs more than the token itself; compression takes"
    + " that repeated framing out because the previous events are still in the window").split(" ");

  private DeflateCost() {}

  public static void main(String[] args) {
    int events = args.length > 0 ? Integer.parseInt(args[0]) : 200_000;
    int tokensPerEvent = args.length > 1 ? Integer.parseInt(args[1]) : 1;
    for (String transport : new String[] {"sse", "bridge"}) {
      for (int level : new int[] {1, 6, 9}) {
        run(transport, level, events / 4, tokensPerEvent); // warm-up
        run(transport, level, events, tokensPerEvent);
      }
    }
  }

  private static void run(String transport, int level, int events, int tokensPerEvent) {
    ThreadMXBean threads = ManagementFactory.getThreadMXBean();
    Deflater deflater = new Deflater(level, true);
    CRC32 crc = new CRC32(); // gzip checksums every byte it compresses
    byte[] out = new byte[64 * 1024];
    byte[][] input = new byte[events][];
    long plain = 0;
    for (int i = 0; i < events; i++) {
      input[i] = event(transport, i + 1, tokensPerEvent).getBytes(StandardCharsets.UTF_8);
      plain += input[i].length;
    }
    long compressed = 0;
    long t0 = threads.getCurrentThreadCpuTime();
    for (byte[] event : input) {
      if ("sse".equals(transport)) {
        crc.update(event);
      }
      deflater.setInput(event);
      int n;
      do {
        n = deflater.deflate(out, 0, out.length, Deflater.SYNC_FLUSH);
        compressed += n;
      } while (n == out.length);
      if ("bridge".equals(transport)) {
        compressed -= 4; // permessage-deflate drops the 00 00 ff ff a sync flush ends with
      }
    }
    long cpu = threads.getCurrentThreadCpuTime() - t0;
    deflater.end();
    System.out.printf("%s level %d, %d tokens/event: %.2f µs CPU/event, %.1f -> %.1f bytes/event (%.1fx)%n", transport, level,
      tokensPerEvent, cpu / 1000.0 / events, (double) plain / events, (double) compressed / events, (double) plain / compressed);
  }

  private static String event(String transport, int sequence, int tokensPerEvent) {
    StringBuilder text = new StringBuilder();
    for (int t = 0; t < tokensPerEvent; t++) {
      text.append(' ').append(WORDS[(sequence * tokensPerEvent + t) % WORDS.length]);
    }
    String json = "{\"type\":\"model:chunk\",\"jobId\":\"4iPTcZKx1vq4sgVl2VyJ0uvS\",\"chunk\":\"" + text + "\",\"sequence\":"
      + sequence + ",\"timestamp\":" + (1795793969895L + sequence * 7L) + ",\"metadata\":{\"step\":\"writing\","
      + "\"model\":\"tokenbus-local\",\"tokens_per_sec\":" + (20 + sequence % 7) + "." + (sequence % 10) + ",\"tokens\":"
      + tokensPerEvent + "}}";
    if ("sse".equals(transport)) {
      return "id: " + sequence + "\nevent: model:chunk\ndata: " + json + "\n\n";
    }
    String frame = "{\"type\":\"rec\",\"address\":\"job.4iPTcZKx1vq4sgVl2VyJ0uvS.chunk\",\"body\":" + json + "}";
    return "a[\"" + frame.replace("\\", "\\\\").replace("\"", "\\\"") + "\"]";
  }
}
