package io.tokenbus.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.junit.jupiter.api.Test;
import org.junit.platform.engine.TestExecutionResult;
import org.junit.platform.launcher.TestExecutionListener;
import org.junit.platform.launcher.TestIdentifier;
import org.junit.platform.launcher.core.LauncherDiscoveryRequestBuilder;
import org.junit.platform.launcher.core.LauncherFactory;

/**
 * The browser tests on a machine without Chromium: skipped with how to enable them, or failing when required (CI).
 * Runs {@link WebUiTest} in this JVM with the Chromium path pointed at nothing.
 */
class BrowserConditionTest {
  /** What the run reported for the WebUiTest class: skip reason or failure message. */
  private record Outcome(List<String> skipped, List<Throwable> failures, int started) {}

  private static Outcome runWebUiTestWith(String requireBrowser) {
    Properties saved = (Properties) System.getProperties().clone();
    System.setProperty("tokenbus.chromium", "/nonexistent/chromium");
    System.setProperty("tokenbus.requireBrowser", requireBrowser);
    System.setProperty("tokenbus.browserCondition.quiet", "true"); // the build's console is not about this run
    List<String> skipped = new ArrayList<>();
    List<Throwable> failures = new ArrayList<>();
    int[] started = {0};
    try {
      LauncherFactory.create().execute(LauncherDiscoveryRequestBuilder.request().selectors(selectClass(WebUiTest.class)).build(),
        new TestExecutionListener() {
          @Override
          public void executionSkipped(TestIdentifier id, String reason) {
            skipped.add(reason);
          }

          @Override
          public void executionStarted(TestIdentifier id) {
            if (id.isTest()) {
              started[0]++;
            }
          }

          @Override
          public void executionFinished(TestIdentifier id, TestExecutionResult result) {
            result.getThrowable().ifPresent(failures::add);
          }
        });
    } finally {
      System.setProperties(saved);
    }
    return new Outcome(skipped, failures, started[0]);
  }

  @Test
  void withoutChromiumTheBrowserTestsAreSkippedWithHowToEnableThem() {
    Outcome o = runWebUiTestWith("false");
    assertEquals(0, o.started(), "no browser test ran");
    assertTrue(o.failures().isEmpty(), () -> "nothing failed: " + o.failures());
    assertEquals(1, o.skipped().size(), o.skipped().toString());
    String reason = o.skipped().get(0);
    assertTrue(reason.contains("/nonexistent/chromium is missing") && reason.contains("apt-get install chromium chromium-driver"), reason);
  }

  @Test
  void withoutChromiumARequiredBrowserFailsTheRun() {
    Outcome o = runWebUiTestWith("true");
    assertEquals(0, o.started());
    assertTrue(o.skipped().isEmpty(), o.skipped().toString());
    assertFalse(o.failures().isEmpty(), "the class failed");
    String message = String.valueOf(o.failures().get(0).getMessage()) + " " + o.failures().get(0).getCause();
    assertTrue(message.contains("browser tests are required") && message.contains("/nonexistent/chromium is missing"), message);
  }

  @Test
  void ciTrueRequiresTheBrowserUnlessThePropertySaysOtherwise() {
    Properties none = new Properties();
    assertTrue(BrowserCondition.required(Map.of("CI", "true"), none));
    assertFalse(BrowserCondition.required(Map.of(), none));
    Properties off = new Properties();
    off.setProperty("tokenbus.requireBrowser", "false");
    assertFalse(BrowserCondition.required(Map.of("CI", "true"), off));
    Properties on = new Properties();
    on.setProperty("tokenbus.requireBrowser", "true");
    assertTrue(BrowserCondition.required(Map.of(), on));
  }
}
