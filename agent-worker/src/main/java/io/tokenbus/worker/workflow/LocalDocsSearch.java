package io.tokenbus.worker.workflow;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Searches the text files ({@code .md}, {@code .txt}) of a folder the user configures ({@code TOKENBUS_DOCS_DIR}),
 * scoring paragraphs by how many query words they contain. Non-blocking (Vert.x file system); reads at most
 * {@link #MAX_FILES} files of at most {@link #MAX_BYTES} bytes each.
 */
public final class LocalDocsSearch implements SearchTool {
  static final int MAX_FILES = 200;
  static final long MAX_BYTES = 1 << 20;

  private final Vertx vertx;
  private final String dir;

  public LocalDocsSearch(Vertx vertx, String dir) {
    this.vertx = vertx;
    this.dir = dir;
  }

  @Override
  public Future<List<Hit>> search(String query, int limit) {
    if (dir == null || dir.isBlank()) {
      return Future.succeededFuture(List.of());
    }
    Set<String> words = words(query);
    return vertx.fileSystem().readDir(dir, ".*\\.(md|txt)$").compose(files -> {
      List<Future<List<Scored>>> reads = new ArrayList<>();
      for (String f : files.stream().sorted().limit(MAX_FILES).toList()) {
        reads.add(vertx.fileSystem().props(f).compose(p -> p.size() > MAX_BYTES ? Future.succeededFuture(List.<Scored>of()) :
          vertx.fileSystem().readFile(f).map(b -> score(f.substring(f.lastIndexOf('/') + 1), b.toString(), words))));
      }
      return Future.all(reads).map(all -> {
        List<Scored> scored = new ArrayList<>();
        for (int i = 0; i < all.size(); i++) {
          scored.addAll(all.<List<Scored>>resultAt(i));
        }
        return scored.stream().filter(s -> s.score > 0).sorted(Comparator.comparingInt((Scored s) -> -s.score))
          .limit(limit).map(s -> new Hit(s.source, s.text)).toList();
      });
    });
  }

  private record Scored(String source, String text, int score) {}

  private static List<Scored> score(String source, String content, Set<String> query) {
    List<Scored> out = new ArrayList<>();
    for (String para : content.split("\\n\\s*\\n")) {
      String p = para.strip();
      if (p.isEmpty()) {
        continue;
      }
      int score = 0;
      for (String w : words(p)) {
        if (query.contains(w)) {
          score++;
        }
      }
      out.add(new Scored(source, p.length() > 400 ? p.substring(0, 400) + "…" : p, score));
    }
    return out;
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
