package io.tokenbus.testing;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Assumptions;

/**
 * Finds Redis' command-line tools for tests that need the real ones (Redis Cluster needs {@code redis-cli}, Sentinel
 * needs {@code redis-sentinel}; the bundled embedded-redis binary has neither). On a machine without them such tests
 * are skipped with one line saying what to install; under {@code CI=true} they are required and fail instead.
 */
public final class RedisTools {
  private RedisTools() {
  }

  /** The path of {@code name} (/usr/bin first, then PATH); skips the test, or fails it under CI=true, when missing. */
  public static String require(String name, String debianPackage) {
    String found = find(name);
    String message = name + " not found (apt-get install " + debianPackage + "): test skipped";
    if (found == null && "true".equalsIgnoreCase(System.getenv("CI"))) {
      throw new AssertionError(name + " is required under CI=true (.ci/run installs " + debianPackage + ")");
    }
    if (found == null) {
      System.err.println(message);
    }
    Assumptions.assumeTrue(found != null, message);
    return found;
  }

  public static String find(String name) {
    if (Files.isExecutable(Path.of("/usr/bin", name))) {
      return "/usr/bin/" + name;
    }
    for (String d : System.getenv().getOrDefault("PATH", "").split(":")) {
      Path p = Path.of(d, name);
      if (!d.isEmpty() && Files.isExecutable(p)) {
        return p.toString();
      }
    }
    return null;
  }
}
