package io.tokenbus.e2e;

import io.tokenbus.testing.Patience;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import java.util.logging.Level;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.logging.LogEntry;
import org.openqa.selenium.logging.LogType;
import org.openqa.selenium.support.ui.Select;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * A headless Chromium per test (see {@link Chromium}; the concrete classes carry {@link RequiresBrowser}) on the web
 * UI of a gateway, and how the tests read and drive that page. Waits poll the page; nothing sleeps.
 */
abstract class BrowserTestBase {
  static final Path ARTIFACTS = Path.of("target", "test-artifacts");
  protected WebDriver driver;
  /** Every DevTools Network event read so far (reading the performance log drains it). */
  private final List<JsonObject> networkLog = new ArrayList<>();

  /** The port of the gateway whose page each test starts on. */
  protected abstract int pagePort();

  /** Whether the browser keeps the DevTools Network events for {@link #network}. */
  protected boolean performanceLog() {
    return false;
  }

  @BeforeEach
  void browser() throws Exception {
    driver = Chromium.start(performanceLog());
    driver.get("http://127.0.0.1:" + pagePort() + "/");
    waitFor(d -> List.of("connected", "streaming").contains(connState()));
  }

  @AfterEach
  void closeBrowser() {
    if (driver != null) {
      driver.quit();
    }
  }

  /** Waits {@link Patience#SECONDS} for what the page owes the test. */
  protected <T> T waitFor(Function<WebDriver, T> condition) {
    return waitFor(Duration.ofSeconds(Patience.SECONDS), condition);
  }

  protected <T> T waitFor(Duration timeout, Function<WebDriver, T> condition) {
    return new WebDriverWait(driver, timeout, Duration.ofMillis(20)).until(condition::apply);
  }

  protected Object js(String script, Object... args) {
    return ((JavascriptExecutor) driver).executeScript(script, args);
  }

  /** The browser console's errors so far (failed loads, uncaught exceptions, CSP violations). */
  protected List<String> consoleErrors() {
    return driver.manage().logs().get(LogType.BROWSER).getAll().stream()
      .filter(e -> e.getLevel().intValue() >= Level.SEVERE.intValue()).map(LogEntry::getMessage).toList();
  }

  /** DevTools Network events seen so far with the given method, as {@code params} objects (needs {@link #performanceLog}). */
  protected List<JsonObject> network(String method) {
    for (LogEntry e : driver.manage().logs().get("performance").getAll()) {
      networkLog.add(new JsonObject(e.getMessage()).getJsonObject("message"));
    }
    return networkLog.stream().filter(m -> method.equals(m.getString("method"))).map(m -> m.getJsonObject("params")).toList();
  }

  protected static String header(JsonObject headers, String name) {
    return headers.fieldNames().stream().filter(n -> n.equalsIgnoreCase(name)).findFirst().map(headers::getString).orElse(null);
  }

  protected String connState() {
    return driver.findElement(By.id("conn-state")).getText();
  }

  protected String answerText() {
    return normalize(driver.findElement(By.id("answer")).getText());
  }

  protected static String normalize(String s) {
    return s.replaceAll("\\s+", " ").trim();
  }

  /** Submits through the page's form; returns the job id once the job is in the timeline. */
  protected String submit(String prompt, String type) {
    WebElement p = driver.findElement(By.id("prompt"));
    p.clear();
    p.sendKeys(prompt);
    new Select(driver.findElement(By.id("type"))).selectByValue(type);
    driver.findElement(By.id("submit")).click();
    return waitFor(d -> {
      List<WebElement> rows = d.findElements(By.cssSelector("#timeline li[data-job]"));
      return rows.isEmpty() ? null : rows.get(0).getAttribute("data-job");
    });
  }

  protected String jobState(String jobId) {
    return driver.findElement(By.cssSelector("#timeline li[data-job='" + jobId + "'] .state")).getText();
  }

  /** The stream token the page keeps for a job (sessionStorage). */
  protected String token(String jobId) {
    Object stored = js("return sessionStorage.getItem('tokenbus.job.' + arguments[0])", jobId);
    return new JsonObject((String) stored).getString("token");
  }

  /** Saves what the browser shows to target/test-artifacts/{@code name}; returns that file. */
  protected static Path screenshot(WebDriver d, String name) {
    try {
      Files.createDirectories(ARTIFACTS);
      Path shot = ((TakesScreenshot) d).getScreenshotAs(OutputType.FILE).toPath();
      return Files.copy(shot, ARTIFACTS.resolve(name), StandardCopyOption.REPLACE_EXISTING);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** A {@link #screenshot} that, with {@code -Dtokenbus.updateScreenshot=true}, also replaces docs/images/{@code name}. */
  protected static void saveScreenshot(WebDriver d, String name) {
    Path shot = screenshot(d, name);
    if (Boolean.getBoolean("tokenbus.updateScreenshot")) {
      try {
        Path docs = Path.of("..", "docs", "images");
        Files.createDirectories(docs);
        Files.copy(shot, docs.resolve(name), StandardCopyOption.REPLACE_EXISTING);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
  }
}
