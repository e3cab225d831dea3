package io.tokenbus.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Every relative link in the Markdown an operator reads (README, docs/, deploy/README) names a file that exists and,
 * with a {@code #fragment}, a heading of that file as GitHub names its anchors (lower case; letters, digits, spaces,
 * hyphens and underscores kept; spaces become hyphens). Figures are cited by such links, so a renamed heading must not
 * leave a dead one.
 */
class DocsLinksTest {
  private static final Pattern LINK = Pattern.compile("\\]\\(([^)\\s]+)\\)");
  private static final Pattern HEADING = Pattern.compile("^#{1,6} (.+)$", Pattern.MULTILINE);
  private static final Pattern FENCE = Pattern.compile("^```.*?^```", Pattern.MULTILINE | Pattern.DOTALL);

  static String anchor(String heading) {
    StringBuilder b = new StringBuilder();
    heading.strip().toLowerCase().codePoints()
      .filter(c -> Character.isLetterOrDigit(c) || c == ' ' || c == '-' || c == '_')
      .forEach(c -> b.appendCodePoint(c == ' ' ? '-' : c));
    return b.toString();
  }

  static List<Path> markdown() {
    List<Path> files = new ArrayList<>(List.of(Manifests.REPO.resolve("README.md"), Manifests.MODULE.resolve("README.md")));
    try (Stream<Path> docs = Files.list(Manifests.REPO.resolve("docs"))) {
      docs.filter(p -> p.toString().endsWith(".md")).sorted().forEach(files::add);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return files;
  }

  static Set<String> anchors(Path md) {
    Set<String> out = new HashSet<>();
    Matcher m = HEADING.matcher(FENCE.matcher(Manifests.read(md)).replaceAll(""));
    while (m.find()) {
      out.add(anchor(m.group(1)));
    }
    return out;
  }

  @Test
  void anchorsAreNamedAsGitHubNamesThem() {
    assertEquals("where-the-numeric-goals-stand-29-nov-2026-0550", anchor("Where the numeric goals stand (29 Nov 2026, 05:50)"));
    assertEquals("the-one-process-tail-probed-again-29-nov-2026-04550550", anchor("The one-process tail, probed again (29 Nov 2026, 04:55–05:50)"));
    assertEquals("tokenbus_http_compression-and-µs", anchor("`TOKENBUS_HTTP_COMPRESSION` and µs"));
  }

  @Test
  void everyRelativeLinkResolves() {
    List<String> dead = new ArrayList<>();
    Map<Path, Set<String>> headings = new HashMap<>(); // a file's anchors, read once however many links name it
    for (Path md : markdown()) {
      Matcher m = LINK.matcher(FENCE.matcher(Manifests.read(md)).replaceAll(""));
      while (m.find()) {
        String target = m.group(1);
        if (target.matches("^[a-z]+:.*")) {
          continue; // http(s), mailto: not ours to check offline
        }
        int hash = target.indexOf('#');
        String file = hash < 0 ? target : target.substring(0, hash);
        Path resolved = file.isEmpty() ? md : md.getParent().resolve(file).normalize();
        String where = Manifests.REPO.relativize(md) + ": " + target;
        if (!Files.exists(resolved)) {
          dead.add(where + " (no such file)");
        } else if (hash >= 0 && resolved.toString().endsWith(".md")
            && !headings.computeIfAbsent(resolved, DocsLinksTest::anchors).contains(target.substring(hash + 1))) {
          dead.add(where + " (no such heading)");
        }
      }
    }
    assertTrue(dead.isEmpty(), "dead links:\n" + String.join("\n", dead));
  }
}
