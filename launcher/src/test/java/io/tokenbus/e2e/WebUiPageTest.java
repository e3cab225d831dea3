package io.tokenbus.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.json.JsonObject;
import java.net.http.HttpResponse;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.By;

/**
 * The web UI page itself in headless Chromium: a strict CSP and model output that cannot make it fetch anything, a
 * favicon and an accessible structure with no console error, and a job opened by link that fits the screen and offers
 * its link. Skipped without Chromium, unless required (CI).
 */
@RequiresBrowser
class WebUiPageTest extends WebUiTestBase {
  @Test
  void modelOutputCannotMakeThePageFetchAnythingAndThePageSendsAStrictCsp() throws Exception {
    try (java.net.ServerSocket listener = new java.net.ServerSocket(0, 50, java.net.InetAddress.getByName("127.0.0.2"))) {
      provider.leakPort = listener.getLocalPort();
      java.util.concurrent.atomic.AtomicInteger hits = new java.util.concurrent.atomic.AtomicInteger();
      Thread acceptor = new Thread(() -> {
        while (!listener.isClosed()) {
          try (java.net.Socket s = listener.accept()) {
            hits.incrementAndGet();
          } catch (java.io.IOException e) {
            return;
          }
        }
      });
      acceptor.setDaemon(true);
      acceptor.start();
      HttpResponse<String> page = http("GET", "/", null, null);
      String csp = page.headers().firstValue("content-security-policy").orElse("");
      for (String directive : List.of("default-src 'self'", "script-src 'self'", "style-src 'self'", "connect-src 'self'", "img-src 'self'")) {
        assertTrue(csp.contains(directive), directive + " in " + csp);
      }
      JsonObject job = submitHttp(new JsonObject().put("prompt", FakeChatProvider.LEAK_MARK + " show me a picture").put("backend", "fake"));
      openLink(job);
      String jobId = job.getString("jobId");
      waitFor(d -> !d.findElements(By.cssSelector("#timeline li[data-job='" + jobId + "']")).isEmpty()
        && "completed".equals(jobState(jobId)));
      assertTrue(answerText().contains("picture:"), answerText());
      assertEquals(0, driver.findElements(By.cssSelector("#answer img")).size(), "no image element");
      assertEquals(1, driver.findElements(By.cssSelector("#answer a[href='http://127.0.0.2:" + provider.leakPort + "/leak']")).size(),
        "the image is a link");
      // The CSP itself: a request to another origin from the page is refused by the browser.
      js("""
        window.__violations = [];
        document.addEventListener('securitypolicyviolation', (e) => window.__violations.push(e.effectiveDirective));
        const img = new Image(); img.src = `http://127.0.0.2:${arguments[0]}/img`; document.body.append(img);
        fetch(`http://127.0.0.2:${arguments[0]}/fetch`).catch(() => {});
        """, provider.leakPort);
      waitFor(d -> ((Number) js("return window.__violations.length")).intValue() >= 2);
      assertEquals(0, hits.get(), "nothing reached 127.0.0.2");
    }
  }

  @Test
  void pageHasAFaviconOneLevelOneHeadingAndTheStatusOnTheConnectionState() throws Exception {
    HttpResponse<String> icon = http("GET", "/favicon.ico", null, null);
    assertEquals(200, icon.statusCode());
    assertTrue(icon.headers().firstValue("content-type").orElse("").startsWith("image/"), icon.headers().toString());
    driver.get("http://127.0.0.1:" + port + "/");
    waitFor(d -> List.of("connected", "streaming").contains(connState()));
    assertEquals(1, driver.findElements(By.tagName("h1")).size());
    assertEquals(0, driver.findElements(By.cssSelector("header[role]")).size(), "a header is a banner, not a status");
    assertEquals(1L, js("return document.querySelectorAll('[role=status] #conn-state, #conn-state[role=status]').length"));
    assertEquals(List.of(), consoleErrors(), "no failed load (favicon), no CSP violation, no exception");
  }

  @Test
  void jobOpenedByLinkShowsItsTypeFitsTheScreenAndOffersItsLink() throws Exception {
    JsonObject job = submitHttp(new JsonObject().put("prompt", "A research job opened by link").put("type", "research"));
    String jobId = job.getString("jobId");
    By row = By.cssSelector("#timeline li[data-job='" + jobId + "']");
    for (int width : new int[] {1280, 375}) {
      driver.manage().window().setSize(new org.openqa.selenium.Dimension(width, 900));
      openLink(job);
      waitFor(d -> !d.findElements(row).isEmpty()
        && d.findElement(row).findElement(By.className("select")).getText().startsWith("research:"));
      assertTrue((Boolean) js("return document.documentElement.scrollWidth <= window.innerWidth"),
        "no horizontal scroll at " + width + " px: " + js("return document.documentElement.scrollWidth"));
      assertTrue((Boolean) js("""
        const li = document.querySelector(`#timeline li[data-job='${arguments[0]}']`);
        const panel = li.closest('section').getBoundingClientRect();
        return [...li.querySelectorAll('.state, .cancel, .copy-link')].every((e) => e.getBoundingClientRect().right <= panel.right);
        """, jobId), "state, link and cancel stay inside the Jobs panel at " + width + " px");
    }
    String link = driver.findElement(row).findElement(By.className("copy-link")).getAttribute("data-link");
    assertEquals("http://127.0.0.1:" + port + "/?job=" + jobId + "&token=" + job.getString("streamToken"), link);
  }
}
