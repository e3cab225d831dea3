package io.tokenbus.worker.workflow;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.PriorityQueue;
import java.util.Set;

/**
 * Searches the text files ({@code .md}, {@code .txt}) directly in a folder the user configures
 * ({@code TOKENBUS_DOCS_DIR}), scoring paragraphs by how many distinct query words they contain. Non-blocking (Vert.x
 * file system). Bounded: at most {@link #MAX_FILES} files of at most {@link #MAX_BYTES} bytes, read one at a time,
 * keeping only the best {@code limit} paragraphs.
 */
public final class LocalDocsSearch implements SearchTool {
  static final int MAX_FILES = 200;
  static final long MAX_BYTES = 1 << 20;
  static final int MAX_SNIPPET = 400;

  private final Vertx vertx;
  private final String dir;

  public LocalDocsSearch(Vertx vertx, String dir) {
    this.vertx = vertx;
    this.dir = dir == null || dir.isBlank() ? null : dir;
  }

  @Override
  public String unavailable() {
    return dir == null ? "No document folder is configured (set TOKENBUS_DOCS_DIR to a folder of .md/.txt files)." : null;
  }

  @Override
  public Future<List<Hit>> search(String query, int limit) {
    if (dir == null) {
      return Future.succeededFuture(List.of());
    }
    Set<String> words = words(query);
    // Lowest score on top, so the queue keeps the best `limit`.
    PriorityQueue<Scored> best = new PriorityQueue<>(Comparator.comparingInt(Scored::score).thenComparing(Scored::order,
      Comparator.reverseOrder()));
    int[] order = {0};
    return vertx.fileSystem().readDir(dir, ".*\\.(md|txt)$").compose(files -> {
      List<String> sorted = files.stream().sorted().limit(MAX_FILES).toList();
      Future<Void> chain = Future.succeededFuture();
      for (String f : sorted) {
        chain = chain.compose(v -> vertx.fileSystem().props(f)).compose(p -> {
          if (!p.isRegularFile() || p.size() > MAX_BYTES) {
            return Future.succeededFuture();
          }
          return vertx.fileSystem().readFile(f).map(b -> {
            score(f.substring(f.lastIndexOf('/') + 1), b.toString(), words, best, limit, order);
            return null;
          });
        });
      }
      return chain;
    }).map(v -> best.stream().sorted(Comparator.comparingInt(Scored::score).reversed().thenComparingInt(Scored::order))
      .map(s -> new Hit(s.source, s.text)).toList());
  }

  private record Scored(String source, String text, int score, int order) {}

  private static void score(String source, String content, Set<String> query, PriorityQueue<Scored> best, int limit,
                            int[] order) {
    for (String para : content.split("\\n\\s*\\n")) {
      String p = para.strip();
      int score = 0;
      for (String w : words(p)) {
        if (query.contains(w)) {
          score++;
        }
      }
      if (score == 0) {
        continue;
      }
      best.add(new Scored(source, p.length() > MAX_SNIPPET ? p.substring(0, MAX_SNIPPET) + "…" : p, score, order[0]++));
      if (best.size() > limit) {
        best.poll();
      }
    }
  }

  static Set<String> words(String text) {
    Set<String> out = new HashSet<>();
    for (String w : text.toLowerCase(Locale.ROOT).split("[^\\p{L}\\p{N}]+")) {
      if (w.length() > 2) {
        out.add(w);
      }
    }
    return out;
  }
}
