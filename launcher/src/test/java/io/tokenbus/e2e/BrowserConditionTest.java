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
 * Runs every browser test class ({@link #BROWSER_TESTS}) in this JVM with the Chromium path pointed at nothing.
 */
class BrowserConditionTest {
  /** The classes marked {@link RequiresBrowser}. */
  static final List<Class<?>> BROWSER_TESTS = List.of(WebUiStreamingTest.class, WebUiRecoveryTest.class, WebUiClientTest.class,
    WebUiPageTest.class, CompressedWebUiTest.class);

  /** What the run reported for the browser test classes: skip reasons or failures. */
  private record Outcome(List<String> skipped, List<Throwable> failures, int started) {}

  private static Outcome runBrowserTestsWith(String requireBrowser) {
    Properties saved = (Properties) System.getProperties().clone();
    System.setProperty("tokenbus.chromium", "/nonexistent/chromium");
    System.setProperty("tokenbus.requireBrowser", requireBrowser);
    System.setProperty("tokenbus.browserCondition.quiet", "true"); // the build's console is not about this run
    List<String> skipped = new ArrayList<>();
    List<Throwable> failures = new ArrayList<>();
    int[] started = {0};
    try {
      LauncherFactory.create().execute(LauncherDiscoveryRequestBuilder.request().selectors(BROWSER_TESTS.stream().map(c -> selectClass(c)).toList()).build(),
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
    Outcome o = runBrowserTestsWith("false");
    assertEquals(0, o.started(), "no browser test ran");
    assertTrue(o.failures().isEmpty(), () -> "nothing failed: " + o.failures());
    assertEquals(BROWSER_TESTS.size(), o.skipped().size(), "one skip per class: " + o.skipped());
    for (String reason : o.skipped()) {
      assertTrue(reason.contains("/nonexistent/chromium is missing") && reason.contains("apt-get install chromium chromium-driver"), reason);
    }
  }

  @Test
  void withoutChromiumARequiredBrowserFailsTheRun() {
    Outcome o = runBrowserTestsWith("true");
    assertEquals(0, o.started());
    assertTrue(o.skipped().isEmpty(), o.skipped().toString());
    assertEquals(BROWSER_TESTS.size(), o.failures().size(), "every class failed: " + o.failures());
    for (Throwable failure : o.failures()) {
      String message = String.valueOf(failure.getMessage()) + " " + failure.getCause();
      assertTrue(message.contains("browser tests are required") && message.contains("/nonexistent/chromium is missing"), message);
    }
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
