package io.tokenbus.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * A setting that does not parse stops the launcher before it starts anything (no bundled Redis, no cluster member, no
 * port), with exit code 2 and one line naming the setting: a typo never runs the system with a value nobody chose
 * ({@code TOKENBUS_CLUSTER=ture} once read as false and started a lone node).
 */
class LauncherConfigTest {
  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
    "TOKENBUS_CLUSTER | ture | TOKENBUS_CLUSTER must be true or false, not 'ture'",
    "TOKENBUS_NATIVE_TRANSPORT | 0 | TOKENBUS_NATIVE_TRANSPORT must be true or false, not '0'",
    "TOKENBUS_WORKER_MAX_JOBS | lots | TOKENBUS_WORKER_MAX_JOBS must be a whole number, not 'lots'",
    "TOKENBUS_REPLAY_MAX_CHUNKS | 99999999999 | TOKENBUS_REPLAY_MAX_CHUNKS is out of range: 99999999999",
    "TOKENBUS_LOCAL_TOKENS_PER_SECOND | NaN | TOKENBUS_LOCAL_TOKENS_PER_SECOND must be a number, not 'NaN'",
  })
  void aSettingThatDoesNotParseStopsTheLauncherBeforeAnythingStarts(String name, String value, String message)
    throws IOException, InterruptedException {
    ProcessBuilder pb = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx128m",
      "-cp", System.getProperty("java.class.path"), TokenbusLauncher.class.getName()).redirectErrorStream(true);
    pb.environment().putAll(Map.of(name, value, "TOKENBUS_HTTP_PORT", "0", "TOKENBUS_MANAGEMENT_PORT", "0"));
    pb.environment().remove("REDIS_URL");
    Process p = pb.start();
    try {
      assertTrue(p.waitFor(60, TimeUnit.SECONDS), "the launcher did not stop within 60 s");
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      assertEquals(2, p.exitValue(), out);
      assertEquals(List.of("tokenbus: configuration refused, nothing started: " + message), out.lines().toList());
      assertFalse(out.contains("Redis"), out);
    } finally {
      p.destroyForcibly();
    }
  }
}
