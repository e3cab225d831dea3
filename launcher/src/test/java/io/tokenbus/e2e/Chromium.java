package io.tokenbus.e2e;

import java.io.IOException;
import java.nio.file.Files;
import java.util.HashMap;
import java.util.Map;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;

/** Debian's headless Chromium through its chromium-driver (found by {@link BrowserCondition}), one profile per call. */
final class Chromium {
  private Chromium() {}

  /**
   * @param performanceLog also keep the DevTools Network events (response and websocket handshake headers) in the
   *                       {@code performance} log; the {@code browser} log (the page's console) is always kept
   */
  static ChromeDriver start(boolean performanceLog) throws IOException {
    System.setProperty("webdriver.chrome.driver", BrowserCondition.chromedriver().toString());
    ChromeOptions o = new ChromeOptions().setBinary(BrowserCondition.chromium().toFile()).addArguments("--headless=new", "--no-sandbox",
      "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking", "--disable-component-update",
      "--disable-sync", "--no-first-run", "--window-size=1200,900",
      "--user-data-dir=" + Files.createTempDirectory("tokenbus-chromium"));
    Map<String, String> logs = new HashMap<>(Map.of("browser", "ALL"));
    if (performanceLog) {
      logs.put("performance", "ALL");
    }
    o.setCapability("goog:loggingPrefs", logs);
    return new ChromeDriver(new ChromeDriverService.Builder().usingDriverExecutable(BrowserCondition.chromedriver().toFile()).build(), o);
  }
}
