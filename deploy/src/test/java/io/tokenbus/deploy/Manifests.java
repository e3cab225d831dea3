package io.tokenbus.deploy;

import io.fabric8.kubernetes.api.model.HasMetadata;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/** Where the manifests and the service sources are, and the objects {@code kubectl kustomize deploy/k8s} renders. */
final class Manifests {
  /** The deploy module (Surefire runs in the module directory). */
  static final Path MODULE = locateModule();
  static final Path K8S = MODULE.resolve("k8s");
  static final Path REPO = MODULE.getParent();
  static final boolean CI = "true".equalsIgnoreCase(System.getenv("CI"));

  private static String rendered;
  private static String renderProblem;

  private Manifests() {}

  private static Path locateModule() {
    Path here = Path.of(System.getProperty("basedir", "")).toAbsolutePath();
    for (Path p = here; p != null; p = p.getParent()) {
      if (Files.isRegularFile(p.resolve("k8s/kustomization.yaml"))) {
        return p;
      }
      if (Files.isRegularFile(p.resolve("deploy/k8s/kustomization.yaml"))) {
        return p.resolve("deploy");
      }
    }
    throw new IllegalStateException("deploy/k8s/kustomization.yaml not found above " + here);
  }

  /** kubectl on the PATH, or null. */
  static Path kubectl() {
    for (String dir : System.getenv().getOrDefault("PATH", "").split(java.io.File.pathSeparator)) {
      Path p = Path.of(dir.isEmpty() ? "." : dir, "kubectl");
      if (Files.isExecutable(p)) {
        return p;
      }
    }
    return null;
  }

  /** The output of {@code kubectl kustomize deploy/k8s}, or null when kubectl is missing (see {@link #renderProblem}). */
  static synchronized String rendered() {
    if (rendered != null || renderProblem != null) {
      return rendered;
    }
    Path kubectl = kubectl();
    if (kubectl == null) {
      renderProblem = "kubectl is not on the PATH";
      return null;
    }
    try {
      Path out = Files.createTempFile("kustomize", ".yaml");
      Path err = Files.createTempFile("kustomize", ".err");
      Process p = new ProcessBuilder(kubectl.toString(), "kustomize", K8S.toString())
        .redirectOutput(out.toFile()).redirectError(err.toFile()).start();
      if (!p.waitFor(120, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        throw new AssertionError("kubectl kustomize " + K8S + " did not finish in 120 s");
      }
      String stdout = Files.readString(out, StandardCharsets.UTF_8);
      String stderr = Files.readString(err, StandardCharsets.UTF_8);
      Files.deleteIfExists(out);
      Files.deleteIfExists(err);
      if (p.exitValue() != 0) {
        throw new AssertionError("kubectl kustomize " + K8S + " failed (exit " + p.exitValue() + "): " + stderr);
      }
      rendered = stdout;
      return rendered;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  static synchronized String renderProblem() {
    rendered();
    return renderProblem;
  }

  /**
   * The objects to check: kubectl's rendering; without kubectl (never under CI=true) the files the kustomization lists,
   * read as they are (the kustomization only lists resources, so that is the same set).
   */
  static List<HasMetadata> objects() {
    String yaml = rendered();
    if (yaml == null) {
      if (CI) {
        throw new AssertionError("kubectl is required when CI=true (" + renderProblem + ")");
      }
      yaml = String.join("\n---\n", resourceFiles().stream().map(Manifests::read).toList());
    }
    return KubeSchema.parse(yaml);
  }

  static List<Path> resourceFiles() {
    List<Path> files = new ArrayList<>();
    boolean inResources = false;
    for (String line : read(K8S.resolve("kustomization.yaml")).split("\n")) {
      if (line.startsWith("resources:")) {
        inResources = true;
      } else if (inResources && line.matches("\\s+-\\s+\\S+.*")) {
        files.add(K8S.resolve(line.replaceFirst("\\s+-\\s+", "").trim()));
      } else if (!line.isBlank() && !line.startsWith(" ") && !line.startsWith("#")) {
        inResources = false;
      }
    }
    return files;
  }

  static String read(Path p) {
    try {
      return Files.readString(p, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The main Java sources of every service module (what runs in the image). */
  static List<Path> mainSources() {
    try (Stream<Path> s = Files.walk(REPO)) {
      return s.filter(p -> p.toString().endsWith(".java"))
        .filter(p -> p.toString().contains("/src/main/java/"))
        .filter(p -> !p.startsWith(MODULE))
        .filter(p -> !p.toString().contains("/target/"))
        .toList();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static String mainSourceText() {
    StringBuilder b = new StringBuilder();
    mainSources().forEach(p -> b.append(read(p)).append('\n'));
    return b.toString();
  }

  /** First group of {@code regex} in {@code file} (relative to the repository), or a clear failure. */
  static String fromSource(String file, String regex) {
    Matcher m = Pattern.compile(regex).matcher(read(REPO.resolve(file)));
    if (!m.find()) {
      throw new AssertionError(file + " no longer matches /" + regex + "/: update the test that reads it with the code");
    }
    return m.group(1);
  }
}
