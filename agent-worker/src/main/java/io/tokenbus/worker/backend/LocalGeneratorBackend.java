package io.tokenbus.worker.backend;

import io.vertx.core.Vertx;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.PriorityQueue;
import java.util.SplittableRandom;

/**
 * The built-in model: readable text, deterministic for a seed, paced at a fixed token rate. Used as the embedded
 * default, in tests and in benchmarks; it reports its model name ({@value #MODEL}) honestly.
 */
public final class LocalGeneratorBackend implements ModelBackend {
  public static final String NAME = "local";
  public static final String MODEL = "tokenbus-local";
  private static final long TICK_MS = 1;
  /** The phase delays a generation's first token by at most this, so a very slow pace still starts within a second. */
  private static final long MAX_PHASE_NANOS = 1_000_000_000L;

  private final Vertx vertx;
  private final long intervalNanos;
  private final int maxTokens;
  private final List<String> sentences;
  /** Running generations by the time of their next token; stale entries (paused, cancelled) are dropped when due. */
  private final PriorityQueue<Due> due = new PriorityQueue<>();
  private long ticker = -1;

  private record Due(long at, Paced paced, int version) implements Comparable<Due> {
    @Override
    public int compareTo(Due o) {
      return Long.compare(at, o.at);
    }
  }

  public LocalGeneratorBackend(Vertx vertx, double tokensPerSecond, int maxTokens) {
    if (tokensPerSecond <= 0 || maxTokens < 1) {
      throw new IllegalArgumentException("local generator needs a positive rate and token count");
    }
    this.vertx = vertx;
    this.intervalNanos = Math.max(1, Math.round(1e9 / tokensPerSecond));
    this.maxTokens = maxTokens;
    try (InputStream in = LocalGeneratorBackend.class.getResourceAsStream("local-corpus.txt")) {
      this.sentences = new String(in.readAllBytes(), StandardCharsets.UTF_8).lines().filter(l -> !l.isBlank()).toList();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public String defaultModel() {
    return MODEL;
  }

  /** Deterministic for a seed: a partial answer is continued by producing the same text and skipping its start. */
  @Override
  public boolean canContinue() {
    return true;
  }

  /** The whole text a seed produces, as the tokens {@link #generate} streams. */
  public List<String> tokens(long seed, String prompt) {
    List<String> out = new ArrayList<>(maxTokens);
    new Words(seed, prompt, maxTokens).forEachRemaining(out::add);
    return out;
  }

  /** Tokens made on demand (memory per generation stays constant however long the answer). */
  private final class Words implements Iterator<String> {
    private final SplittableRandom random;
    private final ArrayDeque<String> sentence = new ArrayDeque<>();
    private final int limit;
    private int emitted;
    private int sentencesInParagraph;
    private boolean lineStart = true;

    Words(long seed, String prompt, int limit) {
      this.limit = limit;
      random = new SplittableRandom(seed);
      String topic = prompt.strip().replaceAll("\\s+", " ");
      if (topic.length() > 60) {
        topic = topic.substring(0, 60) + "…";
      }
      split("On \"" + topic + "\": here is what I can say.");
    }

    private void split(String text) {
      String[] words = text.split(" ");
      for (int i = 0; i < words.length; i++) {
        sentence.add(i == 0 && lineStart ? words[i] : " " + words[i]);
      }
      lineStart = false;
    }

    @Override
    public boolean hasNext() {
      return emitted < limit;
    }

    @Override
    public String next() {
      if (!hasNext()) {
        throw new NoSuchElementException();
      }
      if (sentence.isEmpty()) {
        if (sentencesInParagraph == 3) {
          sentencesInParagraph = 0;
          lineStart = true;
          sentence.add("\n\n");
        }
        split(sentences.get(random.nextInt(sentences.size())));
        sentencesInParagraph++;
      }
      emitted++;
      return sentence.poll();
    }
  }

  @Override
  public Generation generate(GenerationRequest request, TokenSink sink) {
    String prompt = request.messages().isEmpty() ? "" : request.messages().get(request.messages().size() - 1).content();
    // A phase from the seed keeps concurrent generations from emitting in lockstep, as real streams would not. It
    // delays the first token (a time to first token) rather than shortening the first gap, so a stream's measured rate
    // (tokens_per_sec) is its pace from the second token on.
    // A continuation skips the partial answer's tokens; its maxTokens is what is left of the step's cap.
    Words all = new Words(request.seed(), prompt, Integer.MAX_VALUE);
    int[] skipped = {0};
    Iterator<String> rest = after(all, request.partial().length(), skipped);
    int n = request.maxTokens() > 0 ? Math.min(request.maxTokens(), maxTokens - skipped[0]) : maxTokens - skipped[0];
    Iterator<String> words = limit(rest, Math.max(0, n));
    Paced p = new Paced(words, sink, new SplittableRandom(request.seed()).nextDouble());
    if (!words.hasNext()) { // the partial answer was all of it
      vertx.runOnContext(v -> {
        if (!p.done) {
          p.done = true;
          sink.onEnd();
        }
      });
      return p;
    }
    p.schedule();
    return p;
  }

  /**
   * {@code tokens} without their first {@code chars} characters (a token cut there yields its rest); counts the
   * tokens passed whole into {@code skipped[0]}.
   */
  private static Iterator<String> after(Iterator<String> tokens, int chars, int[] skipped) {
    ArrayDeque<String> head = new ArrayDeque<>(1);
    int done = 0;
    while (done < chars && tokens.hasNext()) {
      String t = tokens.next();
      if (done + t.length() > chars) {
        head.add(t.substring(chars - done));
      } else {
        skipped[0]++;
      }
      done += t.length();
    }
    return new Iterator<>() {
      @Override
      public boolean hasNext() {
        return !head.isEmpty() || tokens.hasNext();
      }

      @Override
      public String next() {
        return head.isEmpty() ? tokens.next() : head.poll();
      }
    };
  }

  private static Iterator<String> limit(Iterator<String> tokens, int n) {
    return new Iterator<>() {
      private int left = n;

      @Override
      public boolean hasNext() {
        return left > 0 && tokens.hasNext();
      }

      @Override
      public String next() {
        left--;
        return tokens.next();
      }
    };
  }

  /**
   * One timer paces every running generation (instead of one timer each); a tick serves only the generations whose
   * next token is due, so its cost follows the token rate, not the number of generations.
   */
  private void tick() {
    long now = System.nanoTime();
    // A generation that ends may start the next step's generation, due now: it is served in this tick too.
    while (!due.isEmpty() && due.peek().at() <= now) {
      Due d = due.poll();
      if (d.version() == d.paced().version) {
        d.paced().emit(now);
      }
    }
    if (due.isEmpty()) {
      vertx.cancelTimer(ticker);
      ticker = -1;
    }
  }

  private void enqueue(Due d) {
    due.add(d);
    if (ticker < 0) {
      ticker = vertx.setPeriodic(TICK_MS, id -> tick());
    }
  }

  private final class Paced implements Generation {
    private final Iterator<String> tokens;
    private final TokenSink sink;
    /** When the next token is due (nanoTime); while paused, how long after the resume it is due. */
    private long next;
    private boolean paused;
    private boolean done;
    /** Bumped on pause, resume and cancel: a queued entry of an older version is stale. */
    private int version;

    /**
     * @param phase in [0, 1): the first token comes after that share of an interval (of 1 s at most), the others an
     *     interval apart
     */
    Paced(Iterator<String> tokens, TokenSink sink, double phase) {
      this.tokens = tokens;
      this.sink = sink;
      this.next = System.nanoTime() + Math.round(phase * Math.min(intervalNanos, MAX_PHASE_NANOS));
    }

    void schedule() {
      enqueue(new Due(next, this, version));
    }

    /** The tokens due by {@code now} (several when the event loop was late), then the next entry. */
    void emit(long now) {
      int v = version; // a pause, resume or cancel from the sink ends this turn (a resume has queued its own entry)
      while (version == v && next <= now) {
        next += intervalNanos;
        sink.onToken(tokens.next());
        if (!done && !tokens.hasNext()) { // the end is told even when the sink paused on the last token
          cancel();
          sink.onEnd();
        }
      }
      if (version == v) {
        schedule();
      }
    }

    @Override
    public void pause() {
      if (!paused && !done) {
        paused = true;
        version++;
        next = Math.max(0, next - System.nanoTime());
      }
    }

    @Override
    public void resume() {
      if (paused && !done) {
        paused = false;
        version++;
        next += System.nanoTime();
        schedule();
      }
    }

    @Override
    public void cancel() {
      done = true;
      version++;
    }
  }
}
