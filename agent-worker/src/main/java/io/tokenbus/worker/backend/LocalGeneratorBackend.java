package io.tokenbus.worker.backend;

import io.vertx.core.Vertx;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * The built-in model: readable text, deterministic for a seed, paced at a fixed token rate. Used as the embedded
 * default, in tests and in benchmarks; it reports its model name ({@value #MODEL}) honestly.
 */
public final class LocalGeneratorBackend implements ModelBackend {
  public static final String NAME = "local";
  public static final String MODEL = "tokenbus-local";

  private final Vertx vertx;
  private final double tokensPerSecond;
  private final int maxTokens;
  private final List<String> sentences;

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

  /** The whole text a seed produces, as the tokens {@link #generate} streams. */
  public List<String> tokens(long seed, String prompt) {
    SplittableRandom random = new SplittableRandom(seed);
    List<String> out = new ArrayList<>(maxTokens);
    String topic = prompt.strip().replaceAll("\\s+", " ");
    if (topic.length() > 60) {
      topic = topic.substring(0, 60) + "…";
    }
    splitWords("On \"" + topic + "\": here is what I can say.", out, true);
    int sentencesInParagraph = 0;
    while (out.size() < maxTokens) {
      if (sentencesInParagraph == 3) {
        out.add("\n\n");
        sentencesInParagraph = 0;
      }
      splitWords(sentences.get(random.nextInt(sentences.size())), out, out.isEmpty() || out.get(out.size() - 1).endsWith("\n"));
      sentencesInParagraph++;
    }
    return out.subList(0, maxTokens);
  }

  private static void splitWords(String sentence, List<String> out, boolean first) {
    String[] words = sentence.split(" ");
    for (int i = 0; i < words.length; i++) {
      out.add((i == 0 && first) ? words[i] : " " + words[i]);
    }
  }

  @Override
  public Generation generate(GenerationRequest request, TokenSink sink) {
    String prompt = request.messages().isEmpty() ? "" : request.messages().get(request.messages().size() - 1).content();
    return new Paced(tokens(request.seed(), prompt), sink);
  }

  /** Emits tokens from a timer: one per period up to 1000/s, several per 1 ms tick above that. */
  private final class Paced implements Generation {
    private final List<String> tokens;
    private final TokenSink sink;
    private final long timerId;
    private final double perTick;
    private double credit;
    private int next;
    private boolean paused;
    private boolean done;

    Paced(List<String> tokens, TokenSink sink) {
      this.tokens = tokens;
      this.sink = sink;
      long period = Math.max(1, Math.round(1000.0 / tokensPerSecond));
      this.perTick = tokensPerSecond * period / 1000.0;
      this.timerId = vertx.setPeriodic(period, id -> tick());
    }

    private void tick() {
      if (paused || done) {
        return;
      }
      credit += perTick;
      while (credit >= 1 && !paused && !done) {
        credit -= 1;
        if (next < tokens.size()) {
          sink.onToken(tokens.get(next++));
        }
        if (next >= tokens.size() && !done) {
          finish();
          sink.onEnd();
        }
      }
    }

    private void finish() {
      done = true;
      vertx.cancelTimer(timerId);
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
      if (!done) {
        finish();
      }
    }
  }
}
