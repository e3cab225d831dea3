package io.tokenbus.e2e;

import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.extension.ConditionEvaluationResult;
import org.junit.jupiter.api.extension.ExecutionCondition;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Where the browser tests find Chromium and chromedriver, and what happens when they are missing (see
 * {@link RequiresBrowser}). Paths: {@code -Dtokenbus.chromium} (default {@code /usr/bin/chromium}) and
 * {@code -Dtokenbus.chromedriver} (default {@code /usr/bin/chromedriver}).
 */
public final class BrowserCondition implements ExecutionCondition {
  static final String HOW_TO_ENABLE = "install Debian's chromium and chromium-driver (apt-get install chromium chromium-driver,"
    + " as .ci/run does) or point -Dtokenbus.chromium / -Dtokenbus.chromedriver at them";
  /** Whether this JVM already said on the console that the browser tests are skipped. */
  private static final AtomicBoolean told = new AtomicBoolean();

  public static Path chromium() {
    return Path.of(System.getProperty("tokenbus.chromium", "/usr/bin/chromium"));
  }

  public static Path chromedriver() {
    return Path.of(System.getProperty("tokenbus.chromedriver", "/usr/bin/chromedriver"));
  }

  /** What is missing, if anything. */
  static Optional<String> missing() {
    for (Path exe : new Path[] {chromium(), chromedriver()}) {
      if (!Files.isExecutable(exe)) {
        return Optional.of(exe + " is missing");
      }
    }
    return Optional.empty();
  }

  /** {@code -Dtokenbus.requireBrowser=true|false} when given, else {@code CI=true}: on CI a skipped browser test is a failure. */
  static boolean required(Map<String, String> env, Properties props) {
    String explicit = props.getProperty("tokenbus.requireBrowser");
    return explicit != null ? Boolean.parseBoolean(explicit) : "true".equalsIgnoreCase(env.get("CI"));
  }

  @Override
  public ConditionEvaluationResult evaluateExecutionCondition(ExtensionContext context) {
    Optional<String> missing = missing();
    if (missing.isEmpty()) {
      return ConditionEvaluationResult.enabled("Chromium and chromedriver found");
    }
    if (required(System.getenv(), System.getProperties())) {
      throw new IllegalStateException("browser tests are required (CI=true or -Dtokenbus.requireBrowser=true) but "
        + missing.get() + ": " + HOW_TO_ENABLE);
    }
    String reason = "browser tests skipped: " + missing.get() + "; to run them, " + HOW_TO_ENABLE;
    if (!Boolean.getBoolean("tokenbus.browserCondition.quiet") && !told.getAndSet(true)) {
      // One line for all the browser test classes. Surefire sends System.out/err to report files; the fork's native
      // stderr is what reaches the build's console.
      new PrintStream(new FileOutputStream(FileDescriptor.err), true).println("[tokenbus] " + reason);
    }
    return ConditionEvaluationResult.disabled(reason);
  }
}
