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
import java.util.SplittableRandom;

/**
 * The built-in model: readable text, deterministic for a seed, paced at a fixed token rate. Used as the embedded
 * default, in tests and in benchmarks; it reports its model name ({@value #MODEL}) honestly.
 */
public final class LocalGeneratorBackend implements ModelBackend {
  public static final String NAME = "local";
  public static final String MODEL = "tokenbus-local";
  private static final long TICK_MS = 1;

  private final Vertx vertx;
  private final double tokensPerSecond;
  private final int maxTokens;
  private final List<String> sentences;
  private final List<Paced> active = new ArrayList<>();
  private long ticker = -1;
  private long lastTick;

  public LocalGeneratorBackend(Vertx vertx, double tokensPerSecond, int maxTokens) {
    if (tokensPerSecond <= 0 || maxTokens < 1) {
      throw new IllegalArgumentException("local generator needs a positive rate and token count");
    }
    this.vertx = vertx;
    this.tokensPerSecond = tokensPerSecond;
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
    // A phase from the seed keeps concurrent generations from emitting in lockstep, as real streams would not.
    // A continuation skips the partial answer's tokens; its maxTokens is what is left of the step's cap.
    Words all = new Words(request.seed(), prompt, Integer.MAX_VALUE);
    int[] skipped = {0};
    Iterator<String> rest = after(all, request.partial().length(), skipped);
    int n = request.maxTokens() > 0 ? Math.min(request.maxTokens(), maxTokens - skipped[0]) : maxTokens - skipped[0];
    Iterator<String> words = limit(rest, Math.max(0, n));
    Paced p = new Paced(words, sink, 1 + new SplittableRandom(request.seed()).nextDouble());
    if (!words.hasNext()) { // the partial answer was all of it
      vertx.runOnContext(v -> {
        if (!p.done) {
          p.done = true;
          sink.onEnd();
        }
      });
      return p;
    }
    active.add(p);
    if (ticker < 0) {
      lastTick = System.nanoTime();
      ticker = vertx.setPeriodic(TICK_MS, id -> tick());
    }
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
   * One timer paces every running generation (instead of one timer each): on each tick every generation gets the
   * tokens its rate allows for the elapsed time.
   */
  private void tick() {
    long now = System.nanoTime();
    double credit = tokensPerSecond * (now - lastTick) / 1e9;
    lastTick = now;
    // By index: a generation that ends may start the next step's generation, which is appended and served too.
    for (int i = 0; i < active.size(); i++) {
      active.get(i).advance(credit);
    }
    active.removeIf(p -> p.done);
    if (active.isEmpty()) {
      vertx.cancelTimer(ticker);
      ticker = -1;
    }
  }

  private final class Paced implements Generation {
    private final Iterator<String> tokens;
    private final TokenSink sink;
    private double credit;
    private boolean paused;
    private boolean done;

    /** @param credit start credit >= 1, so the first token comes on the first tick */
    Paced(Iterator<String> tokens, TokenSink sink, double credit) {
      this.tokens = tokens;
      this.sink = sink;
      this.credit = credit;
    }

    void advance(double more) {
      if (paused || done) {
        return;
      }
      credit += more;
      while (credit >= 1 && !paused && !done) {
        credit -= 1;
        sink.onToken(tokens.next());
        if (!tokens.hasNext() && !done) {
          cancel();
          sink.onEnd();
        }
      }
    }

    @Override
    public void pause() {
      paused = true;
    }

    @Override
    public void resume() {
      paused = false;
    }

    @Override
    public void cancel() {
      done = true; // removed from the active list at the end of the tick
    }
  }
}
