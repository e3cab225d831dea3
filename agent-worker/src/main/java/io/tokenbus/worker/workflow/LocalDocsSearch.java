package io.tokenbus.worker.workflow;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.PriorityQueue;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Searches the text files ({@code .md}, {@code .txt}) directly in a folder the user configures
 * ({@code TOKENBUS_DOCS_DIR}), scoring paragraphs by how many distinct query words they contain. Bounded: at most
 * {@link #MAX_FILES} files of at most {@link #MAX_BYTES} bytes, read one at a time, keeping only the best
 * {@code limit} paragraphs, within a time budget ({@code TOKENBUS_DOCS_SEARCH_BUDGET_MS}).
 *
 * <p>Reading and scoring run on a pool of {@link #THREADS} threads of its own, never on the event loop: scoring a
 * 1 MB file there stalled every job of the worker for hundreds of milliseconds. More searches at once queue for the
 * pool. The budget counts from the call, queueing included; when it runs out the search stops and returns the best
 * paragraphs found so far, saying how many files it read.
 */
public final class LocalDocsSearch implements SearchTool {
  static final int MAX_FILES = 200;
  static final long MAX_BYTES = 1 << 20;
  static final int MAX_SNIPPET = 400;
  static final int THREADS = 2;
  /** The pool's name, and its threads' name prefix. */
  static final String POOL = "tokenbus-docs-search";
  private static final Pattern FILE_NAME = Pattern.compile(".*\\.(md|txt)$");
  private static final Pattern PARAGRAPH_BREAK = Pattern.compile("\\n\\s*\\n");
  private static final Pattern NON_WORD = Pattern.compile("[^\\p{L}\\p{N}]+");
  /** Paragraphs scored between two looks at the clock. */
  private static final int CLOCK_EVERY = 64;

  private final Path dir;
  private final long budgetMs;
  private final WorkerExecutor executor;
  private volatile boolean closed;

  /** @param budgetMs how long one search may take, from the call to the answer */
  public LocalDocsSearch(Vertx vertx, String dir, long budgetMs) {
    this.dir = dir == null || dir.isBlank() ? null : Path.of(dir);
    this.budgetMs = budgetMs;
    this.executor = this.dir == null ? null : vertx.createSharedWorkerExecutor(POOL, THREADS);
  }

  @Override
  public String unavailable() {
    return dir == null ? "No document folder is configured (set TOKENBUS_DOCS_DIR to a folder of .md/.txt files)." : null;
  }

  @Override
  public Future<Found> search(String query, int limit) {
    if (dir == null) {
      return Future.succeededFuture(new Found(List.of(), null));
    }
    if (closed) {
      return Future.failedFuture(new IllegalStateException("the document search is closed"));
    }
    long deadline = System.nanoTime() + budgetMs * 1_000_000;
    Set<String> words = words(query);
    // Unordered: searches of several jobs on this context run side by side, up to the pool's size.
    return executor.executeBlocking(() -> scan(words, limit, deadline), false);
  }

  /** Releases the pool's threads; later searches fail. */
  public Future<Void> close() {
    closed = true;
    return executor == null ? Future.succeededFuture() : executor.close();
  }

  /** On a pool thread: blocking reads, regex work, the clock checked as it goes. */
  private Found scan(Set<String> query, int limit, long deadline) throws IOException {
    List<Path> files = files();
    Best best = new Best(query, limit, deadline);
    int read = 0;
    for (Path f : files) {
      if (System.nanoTime() > deadline) {
        break;
      }
      if (Files.isRegularFile(f) && Files.size(f) <= MAX_BYTES) {
        String content = new String(Files.readAllBytes(f), StandardCharsets.UTF_8);
        if (!best.score(f.getFileName().toString(), content)) {
          break;
        }
      }
      read++;
    }
    return new Found(best.hits(), read == files.size() ? null : "The search stopped at its " + budgetMs
      + " ms budget, having read " + read + " of " + files.size() + " files; these are the best matches among them.");
  }

  /** The first {@link #MAX_FILES} candidate files, by name. */
  private List<Path> files() throws IOException {
    try (Stream<Path> all = Files.list(dir)) {
      return all.filter(p -> FILE_NAME.matcher(p.getFileName().toString()).matches()).sorted().limit(MAX_FILES).toList();
    } catch (NoSuchFileException | NotDirectoryException e) {
      throw new IOException("the document folder " + dir + " does not exist or is not a folder");
    }
  }

  private record Scored(String source, String text, int score, int order) {}

  /** The best {@code limit} paragraphs seen so far; earlier ones win ties. */
  private static final class Best {
    private final Set<String> query;
    private final int limit;
    private final long deadline;
    // Lowest score on top, so the queue keeps the best `limit`.
    private final PriorityQueue<Scored> queue = new PriorityQueue<>(Comparator.comparingInt(Scored::score)
      .thenComparing(Scored::order, Comparator.reverseOrder()));
    private int order;

    Best(Set<String> query, int limit, long deadline) {
      this.query = query;
      this.limit = limit;
      this.deadline = deadline;
    }

    /** Scores the paragraphs of one file; false when the deadline passed before its end. */
    boolean score(String source, String content) {
      Matcher breaks = PARAGRAPH_BREAK.matcher(content);
      int start = 0;
      for (int n = 1; start <= content.length(); n++) {
        boolean more = breaks.find();
        String p = content.substring(start, more ? breaks.start() : content.length()).strip();
        start = more ? breaks.end() : content.length() + 1;
        int score = 0;
        for (String w : words(p)) {
          if (query.contains(w)) {
            score++;
          }
        }
        if (score > 0) {
          queue.add(new Scored(source, p.length() > MAX_SNIPPET ? p.substring(0, MAX_SNIPPET) + "…" : p, score, order++));
          if (queue.size() > limit) {
            queue.poll();
          }
        }
        if (n % CLOCK_EVERY == 0 && System.nanoTime() > deadline) {
          return false;
        }
      }
      return true;
    }

    List<Hit> hits() {
      return queue.stream().sorted(Comparator.comparingInt(Scored::score).reversed().thenComparingInt(Scored::order))
        .map(s -> new Hit(s.source, s.text)).toList();
    }
  }

  static Set<String> words(String text) {
    Set<String> out = new HashSet<>();
    for (String w : NON_WORD.split(text.toLowerCase(Locale.ROOT))) {
      if (w.length() > 2) {
        out.add(w);
      }
    }
    return out;
  }
}
