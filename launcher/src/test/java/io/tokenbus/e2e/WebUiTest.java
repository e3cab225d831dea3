package io.tokenbus.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tokenbus.checkpoint.CheckpointConfig;
import io.tokenbus.checkpoint.CheckpointVerticle;
import io.tokenbus.gateway.GatewayConfig;
import io.tokenbus.gateway.GatewayVerticle;
import io.tokenbus.runtime.Node;
import io.tokenbus.testing.TestRedis;
import io.tokenbus.worker.AgentWorkerVerticle;
import io.tokenbus.worker.WorkerConfig;
import io.tokenbus.worker.backend.BackendConfig;
import io.vertx.core.Context;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.logging.LogEntry;
import org.openqa.selenium.logging.LogType;
import org.openqa.selenium.support.ui.Select;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The web UI in a real headless Chromium (Debian chromium + chromedriver) against the whole system running in this
 * JVM with a real Redis. Waits poll the DOM; nothing sleeps. Skipped without Chromium, unless required (CI).
 */
@RequiresBrowser
class WebUiTest {
  static final Path ARTIFACTS = Path.of("target", "test-artifacts");
  private static TestRedis redis;
  private static Node node;
  private static int port;
  private static String gatewayId;
  private static GatewayConfig gatewayConfig;
  private static HttpServer fakeProvider;
  private static volatile Promise<Void> fastGate = Promise.promise();
  private WebDriver driver;

  @BeforeAll
  static void start() throws Exception {
    Files.createDirectories(ARTIFACTS);
    redis = TestRedis.start();
    node = Node.local();
    node.vertx().deployVerticle(new CheckpointVerticle(CheckpointConfig.defaults(redis.url()), node.registry())).await();
    // An OpenAI-compatible provider over a real socket, for answers the local generator never writes (backend "fake").
    fakeProvider = node.vertx().createHttpServer().requestHandler(WebUiTest::fakeProvider).listen(0, "127.0.0.1").await();
    BackendConfig fake = new BackendConfig("fake", BackendConfig.OPENAI, "http://127.0.0.1:" + fakeProvider.actualPort(), "fake-model",
      null, 2000, 60_000, 0);
    node.vertx().deployVerticle(new AgentWorkerVerticle(WorkerConfig.defaults().withDrainMs(0).withLocalGenerator(25, 100)
      .withBackends(List.of(fake), "local"), node.registry())).await();
    gatewayConfig = GatewayConfig.defaults().withPort(TestRedis.freePort());
    port = gatewayConfig.port();
    gatewayId = node.vertx().deployVerticle(new GatewayVerticle(gatewayConfig, node.registry())).await();
  }

  @AfterAll
  static void stop() {
    node.close().await();
    redis.close();
  }

  @BeforeEach
  void browser() throws Exception {
    driver = Chromium.start(false);
    driver.get("http://127.0.0.1:" + port + "/");
    waitFor(Duration.ofSeconds(15), d -> List.of("connected", "streaming").contains(connState()));
  }

  @AfterEach
  void closeBrowser() {
    if (driver != null) {
      driver.quit();
    }
  }

  private <T> T waitFor(Duration timeout, java.util.function.Function<WebDriver, T> condition) {
    return new WebDriverWait(driver, timeout, Duration.ofMillis(20)).until(condition::apply);
  }

  private Object js(String script, Object... args) {
    return ((JavascriptExecutor) driver).executeScript(script, args);
  }

  /** The browser console's errors so far (failed loads, uncaught exceptions, CSP violations). */
  private List<String> consoleErrors() {
    return driver.manage().logs().get(LogType.BROWSER).getAll().stream()
      .filter(e -> e.getLevel().intValue() >= java.util.logging.Level.SEVERE.intValue()).map(LogEntry::getMessage).toList();
  }

  private static HttpResponse<String> http(String method, String path, String token, String body) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path));
    if (token != null) {
      b.header("authorization", "Bearer " + token);
    }
    b.method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
    if (body != null) {
      b.header("content-type", "application/json");
    }
    return HttpClient.newHttpClient().send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  /** Submits over HTTP (any backend); returns {jobId, streamToken}. */
  private static JsonObject submitHttp(JsonObject request) throws Exception {
    HttpResponse<String> r = http("POST", "/api/jobs", null, request.encode());
    assertEquals(202, r.statusCode(), r.body());
    return new JsonObject(r.body());
  }

  private void openLink(JsonObject job) {
    driver.get("http://127.0.0.1:" + port + "/?job=" + job.getString("jobId") + "&token=" + job.getString("streamToken"));
  }

  /** The stored chunks of a job, in order. */
  private static JsonArray storedChunks(String jobId, String token) throws Exception {
    JsonArray all = new JsonArray();
    for (boolean more = true; more; ) {
      JsonObject page = new JsonObject(http("GET", "/api/jobs/" + jobId + "/chunks?after=" + all.size(), token, null).body());
      all.addAll(page.getJsonArray("chunks"));
      more = page.getBoolean("hasMore", false);
    }
    return all;
  }

  private static final String LEAK_MARK = "LEAKTEST";
  private static final String FAST_MARK = "FASTTEST";
  static volatile int leakPort;

  /**
   * POST /v1/chat/completions: a prompt with {@link #LEAK_MARK} gets an answer with a Markdown image and link to
   * {@code 127.0.0.2:leakPort}; {@link #FAST_MARK} gets 20,000 tokens at 2,000 tokens/s once {@link #fastGate} opens;
   * anything else a few words.
   */
  private static void fakeProvider(HttpServerRequest req) {
    Context ctx = Vertx.currentContext();
    req.body().onSuccess(body -> {
      String b = body.toString();
      boolean fast = b.contains(FAST_MARK);
      List<String> tokens = b.contains(LEAK_MARK)
        ? List.of("Here ", "is ", "a ", "picture: ", "![x](http://127.0.0.2:" + leakPort + "/leak)", " and ", "[a link](http://127.0.0.2:"
          + leakPort + "/link)", " end.")
        : fast ? longAnswer(20_000) : List.of("fine ", "thanks.");
      HttpServerResponse resp = req.response().setChunked(true).putHeader("content-type", "text/event-stream");
      resp.write(openAi("{\"role\":\"assistant\",\"content\":\"\"}", null));
      (fast ? fastGate.future() : io.vertx.core.Future.<Void>succeededFuture()).onComplete(go -> ctx.runOnContext(v -> {
        int[] next = {0};
        ctx.owner().setPeriodic(fast ? 10 : 20, id -> {
          for (int k = 0; k < (fast ? 20 : 1) && next[0] < tokens.size(); k++) {
            resp.write(openAi("{\"content\":" + io.vertx.core.json.Json.encode(tokens.get(next[0]++)) + "}", null));
          }
          if (next[0] == tokens.size()) {
            ctx.owner().cancelTimer(id);
            resp.write(openAi("{}", "stop"));
            resp.end("data: [DONE]\n\n");
          }
        });
      }));
    });
  }

  private static String openAi(String delta, String finish) {
    return "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"fake-model\",\"choices\":[{\"index\":0,"
      + "\"delta\":" + delta + ",\"finish_reason\":" + (finish == null ? "null" : "\"" + finish + "\"") + "}]}\n\n";
  }

  /** A long Markdown answer of n tokens: paragraphs, headings, lists and code blocks, ending with END-OF-ANSWER. */
  static List<String> longAnswer(int n) {
    String[] words = {"stream ", "token ", "bridge ", "replay ", "sequence ", "chunk ", "gateway ", "worker ", "store ", "frame "};
    List<String> t = new ArrayList<>(n);
    while (t.size() < n - 1) {
      int k = t.size();
      if (k % 1000 == 0) {
        t.add("\n\n## Part " + (k / 1000 + 1) + "\n\n");
      } else if (k % 1000 == 500) {
        t.add("\n\n```java\nint x = " + k + ";\n```\n\n");
      } else if (k % 250 == 17) {
        t.add("\n\n- item " + k + "\n- item " + (k + 1) + "\n\n");
      } else if (k % 60 == 0) {
        t.add("\n\n");
      } else {
        t.add(words[k % words.length]);
      }
    }
    t.add("END-OF-ANSWER");
    return t;
  }

  private String connState() {
    return driver.findElement(By.id("conn-state")).getText();
  }

  private String answerText() {
    return normalize(driver.findElement(By.id("answer")).getText());
  }

  private static String normalize(String s) {
    return s.replaceAll("\\s+", " ").trim();
  }

  private String submit(String prompt, String type) {
    WebElement p = driver.findElement(By.id("prompt"));
    p.clear();
    p.sendKeys(prompt);
    new Select(driver.findElement(By.id("type"))).selectByValue(type);
    driver.findElement(By.id("submit")).click();
    return waitFor(Duration.ofSeconds(10), d -> {
      List<WebElement> rows = d.findElements(By.cssSelector("#timeline li[data-job]"));
      return rows.isEmpty() ? null : rows.get(0).getAttribute("data-job");
    });
  }

  private String jobState(String jobId) {
    return driver.findElement(By.cssSelector("#timeline li[data-job='" + jobId + "'] .state")).getText();
  }

  private String token(String jobId) {
    Object stored = ((JavascriptExecutor) driver).executeScript("return sessionStorage.getItem('tokenbus.job.' + arguments[0])", jobId);
    return new JsonObject((String) stored).getString("token");
  }

  private static void saveScreenshot(org.openqa.selenium.WebDriver d, String name) {
    try {
      Path shot = ((TakesScreenshot) d).getScreenshotAs(OutputType.FILE).toPath();
      Files.copy(shot, ARTIFACTS.resolve(name), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
      if (Boolean.getBoolean("tokenbus.updateScreenshot")) {
        Path docs = Path.of("..", "docs", "images");
        Files.createDirectories(docs);
        Files.copy(shot, docs.resolve(name), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
      }
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  /** The job's whole output as stored: what the page must show. */
  private String storedText(String jobId) throws Exception {
    HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port
      + "/api/jobs/" + jobId + "/chunks?after=0")).header("authorization", "Bearer " + token(jobId)).build(), HttpResponse.BodyHandlers.ofString());
    JsonArray chunks = new JsonObject(r.body()).getJsonArray("chunks");
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < chunks.size(); i++) {
      sb.append(chunks.getJsonObject(i).getString("chunk"));
    }
    return sb.toString();
  }

  @Test
  void textAppearsInManyStepsAndEndsAsTheJobsOutput() throws Exception {
    String jobId = submit("Explain token streaming", "ask");
    List<Integer> lengths = new ArrayList<>();
    waitFor(Duration.ofSeconds(30), d -> {
      int len = answerText().length();
      if (lengths.isEmpty() || lengths.get(lengths.size() - 1) != len) {
        lengths.add(len);
      }
      if (lengths.size() == 4) {
        Path shot = ((TakesScreenshot) d).getScreenshotAs(OutputType.FILE).toPath();
        try {
          Files.copy(shot, ARTIFACTS.resolve("ui-mid-stream.png"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        } catch (java.io.IOException e) {
          throw new java.io.UncheckedIOException(e);
        }
      }
      return "completed".equals(jobState(jobId));
    });
    assertTrue(lengths.size() >= 5, "the answer grew in several steps: " + lengths);
    for (int i = 1; i < lengths.size(); i++) {
      assertTrue(lengths.get(i) > lengths.get(i - 1), "the text only grows: " + lengths);
    }
    assertEquals(normalize(storedText(jobId)), answerText());
    assertTrue(Files.size(ARTIFACTS.resolve("ui-mid-stream.png")) > 0);
    Object groups = ((JavascriptExecutor) driver).executeScript("return JSON.stringify(window.__tokenbusPerf)");
    JsonArray perf = new JsonArray((String) groups);
    assertTrue(perf.size() >= 5, "arrival-to-paint was measured per 10 chunks: " + perf);
    Files.writeString(ARTIFACTS.resolve("ui-perf.json"), perf.encodePrettily());
    System.out.println("UI arrival-to-paint per 10 chunks: " + perf.encode());
  }

  @Test
  void reloadMidStreamComesBackWithTheTextAndKeepsStreamingWithoutDuplicates() throws Exception {
    String jobId = submit("Reload me while streaming", "ask");
    waitFor(Duration.ofSeconds(15), d -> answerText().length() > 40);
    driver.navigate().refresh();
    waitFor(Duration.ofSeconds(15), d -> !d.findElements(By.cssSelector("#timeline li[data-job='" + jobId + "']")).isEmpty()
      && answerText().length() > 40);
    assertTrue(!"completed".equals(jobState(jobId)), "the reload happened mid-stream");
    waitFor(Duration.ofSeconds(30), d -> "completed".equals(jobState(jobId)));
    assertEquals(normalize(storedText(jobId)), answerText(), "text so far + the rest, nothing twice");
  }

  @Test
  void cancelStopsTheStreamAndTheTimelineSaysCancelled() throws Exception {
    String jobId = submit("Cancel me", "ask");
    waitFor(Duration.ofSeconds(15), d -> answerText().length() > 20);
    driver.findElement(By.cssSelector("#timeline li[data-job='" + jobId + "'] .cancel")).click();
    waitFor(Duration.ofSeconds(5), d -> "cancelled".equals(jobState(jobId)));
    String stored = storedText(jobId);
    assertEquals(normalize(stored), answerText());
    assertTrue(stored.split(" ").length < 100, "stopped before the end");
  }

  @Test
  void statusBarShowsReconnectingWhileTheGatewayIsAwayAndRecovers() {
    node.vertx().undeploy(gatewayId).await();
    try {
      waitFor(Duration.ofSeconds(20), d -> "reconnecting".equals(connState()));
    } finally {
      gatewayId = node.vertx().deployVerticle(new GatewayVerticle(gatewayConfig, node.registry())).await();
    }
    waitFor(Duration.ofSeconds(20), d -> List.of("connected", "streaming").contains(connState()));
  }

  /**
   * Also makes README's picture of the page: a research job mid-answer, saved to target/test-artifacts and, with
   * {@code -Dtokenbus.updateScreenshot=true}, over {@code docs/images/ui-research-mid-stream.png} (README says how).
   */
  @Test
  void researchViewShowsItsSteps() {
    String jobId = submit("How does streaming work?", "research");
    boolean[] shot = {false};
    waitFor(Duration.ofSeconds(30), d -> {
      if (!shot[0] && d.findElements(By.cssSelector("#steps li[data-step='writing']")).size() == 1 && answerText().length() > 120) {
        shot[0] = true;
        saveScreenshot(d, "ui-research-mid-stream.png");
      }
      return d.findElements(By.cssSelector("#steps li[data-step]")).size() >= 3 && "completed".equals(jobState(jobId));
    });
    List<String> steps = driver.findElements(By.cssSelector("#steps li[data-step]")).stream()
      .map(e -> e.getAttribute("data-step")).toList();
    assertEquals(List.of("thinking", "searching", "writing"), steps);
    assertTrue(driver.findElement(By.cssSelector("#steps li[data-step='searching']")).getText().contains("Searching"));
  }

  @Test
  void twoTabsOnTheSameJobBothStreamIt() throws Exception {
    String jobId = submit("Two tabs", "ask");
    waitFor(Duration.ofSeconds(15), d -> answerText().length() > 10);
    String first = driver.getWindowHandle();
    driver.switchTo().newWindow(org.openqa.selenium.WindowType.TAB);
    driver.get("http://127.0.0.1:" + port + "/?job=" + jobId + "&token=" + tokenFrom(first, jobId));
    waitFor(Duration.ofSeconds(30), d -> !d.findElements(By.cssSelector("#timeline li[data-job='" + jobId + "']")).isEmpty()
      && "completed".equals(jobState(jobId)));
    String second = answerText();
    driver.switchTo().window(first);
    waitFor(Duration.ofSeconds(30), d -> "completed".equals(jobState(jobId)));
    assertEquals(normalize(storedText(jobId)), answerText());
    assertEquals(answerText(), second);
  }

  private String tokenFrom(String window, String jobId) {
    String current = driver.getWindowHandle();
    driver.switchTo().window(window);
    String t = token(jobId);
    driver.switchTo().window(current);
    return t;
  }

  @Test
  void libraryHelpersWorkAgainstTheRealStream() throws Exception {
    String jobId = submit("Library helpers", "ask");
    waitFor(Duration.ofSeconds(30), d -> "completed".equals(jobState(jobId)));
    String expected = storedText(jobId);
    Object result = ((JavascriptExecutor) driver).executeAsyncScript("""
      const [jobId, token, done] = arguments;
      const m = await import('/client/tokenbus.js');
      const url = `/api/jobs/${jobId}/events?token=${encodeURIComponent(token)}`;
      const seen = [];
      const viaFetch = await m.wrapFetchStream(fetch(url), jobId, (c) => seen.push(c.sequence));
      const items = [];
      for await (const it of m.streamText(url, { jobId })) items.push(it);
      const h = m.createStreamingHandler(jobId);
      h.onChunk({ sequence: 2, chunk: 'b' }); h.onChunk({ sequence: 1, chunk: 'a' }); const dup = h.onChunk({ sequence: 2, chunk: 'X' });
      m.streamingTracker.start('t'); m.streamingTracker.addChunk('t', { metadata: { tokens: 3 } });
      const stats = m.streamingTracker.complete('t');
      done(JSON.stringify({ viaFetch, dense: seen.every((s, i) => s === i + 1), iterText: items.filter((i) => !i.isComplete).map((i) => i.chunk).join(''),
        lastComplete: items[items.length - 1].isComplete, handlerText: h.getText(), dup, tokens: stats.tokens, chunks: stats.chunks }));
      """, jobId, token(jobId));
    JsonObject r = new JsonObject((String) result);
    assertEquals(expected, r.getString("viaFetch"));
    assertTrue(r.getBoolean("dense"));
    assertEquals(expected, r.getString("iterText"));
    assertTrue(r.getBoolean("lastComplete"));
    assertEquals("ab", r.getString("handlerText"));
    assertEquals(false, r.getBoolean("dup"));
    assertEquals(3, r.getInteger("tokens"));
    assertEquals(1, r.getInteger("chunks"));
  }

  @Test
  void anIdleTabClosedAtTheRegisterDeadlineStaysReadyAndStillSubmitsAndStreams() throws Exception {
    // A gateway with a 1 s register deadline: the page's socket, which follows no job yet, is closed after 1 s.
    GatewayConfig quick = GatewayConfig.defaults().withPort(TestRedis.freePort()).withSecret(gatewayConfig.tokenSecret())
      .withConnections(new GatewayConfig.Connections(256, 5000, 1000, 60_000, 10_000, 1024 * 1024, 2000, 16, java.util.List.of(), 20_000));
    String quickId = node.vertx().deployVerticle(new GatewayVerticle(quick, node.registry())).await();
    try {
      driver.get("http://127.0.0.1:" + quick.port() + "/");
      ((JavascriptExecutor) driver).executeScript("window.__states = []; window.__tokenbus.client.onState((s) => window.__states.push(s))");
      waitFor(Duration.ofSeconds(10), d -> (Boolean) ((JavascriptExecutor) d).executeScript("return window.__tokenbus.client.eb === null"));
      String jobId = submit("After the dismissal", "ask");
      waitFor(Duration.ofSeconds(30), d -> "completed".equals(jobState(jobId)));
      assertEquals(normalize(storedText(jobId)), answerText());
      Object states = ((JavascriptExecutor) driver).executeScript("return JSON.stringify(window.__states)");
      assertTrue(!new JsonArray((String) states).contains("reconnecting"), "the dismissal was quiet: " + states);
    } finally {
      node.vertx().undeploy(quickId).await();
    }
  }

  @Test
  void theClientsSseTransportFollowsAJobToTheEnd() throws Exception {
    String jobId = submit("Over SSE", "ask");
    Object result = ((JavascriptExecutor) driver).executeAsyncScript("""
      const [jobId, done] = arguments;
      const m = await import('/client/tokenbus.js');
      const client = new m.TokenbusClient({ transport: 'sse' });
      await client.connect();
      let text = '';
      // This tab already follows the job over the bridge: the SSE client resumes from what the tab stored.
      client.follow(jobId, { onReplay: (t) => { text = t; }, onChunk: (c) => { text += c.chunk; }, onStatus: (s) => done(JSON.stringify({ type: s.type, text, transport: client.transport })) });
      """, jobId);
    JsonObject r = new JsonObject((String) result);
    assertEquals("sse", r.getString("transport"));
    assertEquals("job:completed", r.getString("type"));
    assertEquals(storedText(jobId), r.getString("text"));
  }


  @Test
  void fiftyConcurrentJobsOnOneSocketAllCompleteAndLeaveNoRegistrationBehind() {
    // A long-lived tab: many jobs at once on one socket; each finished job is unregistered (the gateway frees its
    // follower too), so the tab never runs into the per-socket limit however many jobs it has run.
    js("for (let i = 0; i < 50; i++) document.getElementById('submit').click()");
    waitFor(Duration.ofSeconds(20), d -> d.findElements(By.cssSelector("#timeline li[data-job]")).size() == 50);
    waitFor(Duration.ofSeconds(60), d -> d.findElements(By.cssSelector("#timeline li[data-job]")).stream()
      .allMatch(li -> "completed".equals(li.findElement(By.className("state")).getText())));
    assertEquals("", driver.findElement(By.id("form-error")).getText());
    Object left = js("return Object.keys(window.__tokenbus.client.eb.handlers).filter((a) => a.startsWith('job.')).length");
    assertEquals(0L, left, "every finished job was unregistered");
    assertEquals(0L, js("return [...window.__tokenbus.client.jobs.values()].filter((j) => !j.done).length"));
  }

  /** An in-page client with its own in-memory storage (not the tab's sessionStorage). */
  private static final String MEM_STORAGE = """
    const memStorage = () => { const m = new Map(); return { get length() { return m.size; }, key: (i) => [...m.keys()][i] ?? null,
      getItem: (k) => (m.has(k) ? m.get(k) : null), setItem: (k, v) => m.set(k, String(v)), removeItem: (k) => m.delete(k) }; };
    """;

  @Test
  void aResumeThatMeetsLiveChunksBeforeItsReplayAnswersAsksForNoSecondReplay() throws Exception {
    String jobId = submit("Resume while live chunks come first", "ask");
    waitFor(Duration.ofSeconds(15), d -> answerText().length() > 10);
    // The resume's replay is held back past the gateway's 2 s hold, so live chunks arrive before the replay answers.
    js(MEM_STORAGE + """
      const [jobId, token] = arguments;
      (async () => {
      const m = await import('/client/tokenbus.js');
      const client = new m.TokenbusClient({ storage: memStorage() });
      const r = window.__resume = { text: '', errors: [], replays: 0, status: null };
      const gate = new Promise((res) => setTimeout(res, 2600));
      const request = client.request.bind(client);
      client.request = async (address, body) => {
        if (address === 'job.replay') { r.replays++; await gate; }
        return request(address, body);
      };
      await client.connect();
      client.adopt(jobId, token);
      client.follow(jobId, { onChunk: (c) => { r.text += c.chunk; }, onError: (e) => r.errors.push(String(e.failureCode || e.message)),
        onStatus: (s) => { r.status = s.type; } });
      })();
      """, jobId, token(jobId));
    waitFor(Duration.ofSeconds(30), d -> js("return window.__resume && window.__resume.status") != null);
    assertEquals("job:completed", js("return window.__resume.status"));
    assertEquals("[]", js("return JSON.stringify(window.__resume.errors)"), "no 409 from a second, concurrent replay");
    assertEquals(1L, js("return window.__resume.replays"));
    assertEquals(storedText(jobId), js("return window.__resume.text"));
  }

  @Test
  void sseTransportRetriesWhereRetryingCanSucceedAndReportsWhereItCannot() throws Exception {
    // Two streams per client address: the page's bridge socket and one more. A third stream is refused with 429.
    GatewayConfig tight = GatewayConfig.defaults().withPort(TestRedis.freePort()).withSecret(gatewayConfig.tokenSecret())
      .withConnections(new GatewayConfig.Connections(2, 5000, 30_000, 60_000, 10_000, 1024 * 1024, 2000, 16, java.util.List.of(), 20_000));
    String tightId = node.vertx().deployVerticle(new GatewayVerticle(tight, node.registry())).await();
    try {
      JsonObject job = submitHttp(new JsonObject().put("prompt", "Over SSE through a full gateway"));
      JsonObject other = submitHttp(new JsonObject().put("prompt", "Another job"));
      driver.get("http://127.0.0.1:" + tight.port() + "/");
      waitFor(Duration.ofSeconds(15), d -> List.of("connected", "streaming").contains(connState()));
      js(MEM_STORAGE + """
        const [jobId, token, otherToken] = arguments;
        (async () => {
        const m = await import('/client/tokenbus.js');
        const r = window.__sse = { text: '', errors: [], status: null, states: [], refused: 0, denied: [], deniedStates: [] };
        // Fill the address's streams until one is refused.
        window.__blockers = [];
        for (let i = 0; i < 4; i++) {
          const ac = new AbortController();
          const res = await fetch(`/api/jobs/${jobId}/events?token=${encodeURIComponent(token)}`, { signal: ac.signal });
          if (res.status === 429) { r.refused++; break; }
          window.__blockers.push(ac);
        }
        const client = new m.TokenbusClient({ transport: 'sse', storage: memStorage() });
        client.onState((s) => r.states.push(s));
        await client.connect();
        client.adopt(jobId, token);
        client.follow(jobId, { onChunk: (c) => { r.text += c.chunk; }, onError: (e) => r.errors.push(String(e.failureCode || e.message)),
          onStatus: (s) => { r.status = s.type; } });
        // A token of another job can never work: reported, not retried forever.
        const denied = new m.TokenbusClient({ transport: 'sse', storage: memStorage() });
        denied.onState((s) => r.deniedStates.push(s));
        await denied.connect();
        denied.adopt(jobId, otherToken);
        denied.follow(jobId, { onError: (e) => r.denied.push(String(e.failureCode)) });
        r.ready = true;
        })();
        """, job.getString("jobId"), job.getString("streamToken"), other.getString("streamToken"));
      waitFor(Duration.ofSeconds(10), d -> (Boolean) js("return !!(window.__sse && window.__sse.ready)"));
      assertEquals(1L, js("return window.__sse.refused"), "the address is full");
      waitFor(Duration.ofSeconds(10), d -> (Boolean) js("return window.__sse.states.includes('reconnecting')"));
      js("window.__blockers.forEach((b) => b.abort())");
      waitFor(Duration.ofSeconds(30), d -> js("return window.__sse.status") != null);
      assertEquals("job:completed", js("return window.__sse.status"));
      assertEquals("[]", js("return JSON.stringify(window.__sse.errors)"));
      HttpResponse<String> chunks = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + tight.port()
        + "/api/jobs/" + job.getString("jobId") + "/chunks?after=0")).header("authorization", "Bearer " + job.getString("streamToken")).build(),
        HttpResponse.BodyHandlers.ofString());
      StringBuilder expected = new StringBuilder();
      new JsonObject(chunks.body()).getJsonArray("chunks").forEach(c -> expected.append(((JsonObject) c).getString("chunk")));
      assertEquals(expected.toString(), js("return window.__sse.text"));
      waitFor(Duration.ofSeconds(10), d -> (Boolean) js("return window.__sse.denied.length > 0"));
      assertEquals("[\"403\"]", js("return JSON.stringify(window.__sse.denied)"), "one error, no retry loop");
    } finally {
      node.vertx().undeploy(tightId).await();
    }
  }

  @Test
  void researchJobReloadedMidAnswerRebuildsItsStepsAndAnswerFromTheChunks() throws Exception {
    String jobId = submit("Reload a research job mid-answer", "research");
    waitFor(Duration.ofSeconds(30), d -> answerText().length() > 20);
    driver.navigate().refresh();
    waitFor(Duration.ofSeconds(15), d -> !d.findElements(By.cssSelector("#timeline li[data-job='" + jobId + "']")).isEmpty());
    waitFor(Duration.ofSeconds(30), d -> "completed".equals(jobState(jobId)));
    JsonArray chunks = storedChunks(jobId, token(jobId));
    Map<String, StringBuilder> byStep = new java.util.LinkedHashMap<>();
    chunks.forEach(c -> byStep.computeIfAbsent(((JsonObject) c).getJsonObject("metadata").getString("step", "writing"),
      k -> new StringBuilder()).append(((JsonObject) c).getString("chunk")));
    assertEquals(List.of("thinking", "searching", "writing"), List.copyOf(byStep.keySet()));
    List<String> steps = driver.findElements(By.cssSelector("#steps li[data-step]")).stream().map(e -> e.getAttribute("data-step")).toList();
    assertEquals(List.of("thinking", "searching", "writing"), steps, "the steps panel came back");
    for (String step : List.of("thinking", "searching")) {
      String shown = normalize(driver.findElement(By.cssSelector("#steps li[data-step='" + step + "'] .text")).getText());
      assertEquals(normalize(byStep.get(step).toString()), shown, step);
    }
    assertEquals(normalize(byStep.get("writing").toString()), answerText(), "the answer is the writing step only");
  }

  @Test
  void finishedJobReloadedShowsTheSameChunksRateTimeToFirstTokenAndFullProgress() {
    String jobId = submit("Stats survive a reload", "ask");
    By row = By.cssSelector("#timeline li[data-job='" + jobId + "']");
    waitFor(Duration.ofSeconds(30), d -> "completed".equals(jobState(jobId))
      && !d.findElement(row).findElement(By.className("ttft")).getText().equals("–"));
    String before = driver.findElement(row).findElement(By.className("stats")).getText();
    assertTrue(!before.startsWith("0 chunks"), before);
    assertEquals("100", driver.findElement(row).findElement(By.tagName("progress")).getAttribute("value"));
    driver.navigate().refresh();
    waitFor(Duration.ofSeconds(15), d -> !d.findElements(row).isEmpty() && "completed".equals(jobState(jobId))
      && !d.findElement(row).findElement(By.className("ttft")).getText().equals("–"));
    assertEquals(before, driver.findElement(row).findElement(By.className("stats")).getText());
    assertEquals("100", driver.findElement(row).findElement(By.tagName("progress")).getAttribute("value"));
  }

  @Test
  void modelOutputCannotMakeThePageFetchAnythingAndThePageSendsAStrictCsp() throws Exception {
    try (java.net.ServerSocket listener = new java.net.ServerSocket(0, 50, java.net.InetAddress.getByName("127.0.0.2"))) {
      leakPort = listener.getLocalPort();
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
      JsonObject job = submitHttp(new JsonObject().put("prompt", LEAK_MARK + " show me a picture").put("backend", "fake"));
      openLink(job);
      String jobId = job.getString("jobId");
      waitFor(Duration.ofSeconds(20), d -> !d.findElements(By.cssSelector("#timeline li[data-job='" + jobId + "']")).isEmpty()
        && "completed".equals(jobState(jobId)));
      assertTrue(answerText().contains("picture:"), answerText());
      assertEquals(0, driver.findElements(By.cssSelector("#answer img")).size(), "no image element");
      assertEquals(1, driver.findElements(By.cssSelector("#answer a[href='http://127.0.0.2:" + leakPort + "/leak']")).size(),
        "the image is a link");
      // The CSP itself: a request to another origin from the page is refused by the browser.
      js("""
        window.__violations = [];
        document.addEventListener('securitypolicyviolation', (e) => window.__violations.push(e.effectiveDirective));
        const img = new Image(); img.src = `http://127.0.0.2:${arguments[0]}/img`; document.body.append(img);
        fetch(`http://127.0.0.2:${arguments[0]}/fetch`).catch(() => {});
        """, leakPort);
      waitFor(Duration.ofSeconds(5), d -> ((Number) js("return window.__violations.length")).intValue() >= 2);
      assertEquals(0, hits.get(), "nothing reached 127.0.0.2");
    }
  }

  @Test
  void pageHasAFaviconOneLevelOneHeadingAndTheStatusOnTheConnectionState() throws Exception {
    HttpResponse<String> icon = http("GET", "/favicon.ico", null, null);
    assertEquals(200, icon.statusCode());
    assertTrue(icon.headers().firstValue("content-type").orElse("").startsWith("image/"), icon.headers().toString());
    driver.get("http://127.0.0.1:" + port + "/");
    waitFor(Duration.ofSeconds(15), d -> List.of("connected", "streaming").contains(connState()));
    assertEquals(1, driver.findElements(By.tagName("h1")).size());
    assertEquals(0, driver.findElements(By.cssSelector("header[role]")).size(), "a header is a banner, not a status");
    assertEquals(1L, js("return document.querySelectorAll('[role=status] #conn-state, #conn-state[role=status]').length"));
    assertEquals(List.of(), consoleErrors(), "no failed load (favicon), no CSP violation, no exception");
  }

  @Test
  void aLongFastAnswerKeepsTheFrameRateAndShowsItsEndRightAway() throws Exception {
    // 20,000 tokens at 2,000 tokens/s from a provider over a real socket, followed by the page opened from a link.
    fastGate = Promise.promise();
    JsonObject job = submitHttp(new JsonObject().put("prompt", FAST_MARK + " write a lot").put("backend", "fake"));
    String jobId = job.getString("jobId");
    openLink(job);
    waitFor(Duration.ofSeconds(15), d -> !d.findElements(By.cssSelector("#timeline li[data-job='" + jobId + "']")).isEmpty()
      && "streaming".equals(connState()));
    js("""
      const m = window.__long = { frames: 0, longTasks: 0, longTaskMs: 0, blockedMs: 0, start: null, end: null, shownAt: null };
      new PerformanceObserver((l) => l.getEntries().forEach((e) => { m.longTasks++; m.longTaskMs += e.duration; m.blockedMs += Math.max(0, e.duration - 50); }))
        .observe({ type: 'longtask' });
      const answer = document.getElementById('answer');
      const tick = () => {
        if (m.start == null && answer.textContent.length > 0) m.start = performance.now();
        if (m.start != null) m.frames++;
        if (answer.textContent.includes('END-OF-ANSWER')) { m.end = performance.now(); m.shownAt = Date.now(); return; }
        requestAnimationFrame(tick);
      };
      requestAnimationFrame(tick);
      """);
    fastGate.complete();
    waitFor(Duration.ofSeconds(120), d -> js("return window.__long.shownAt") != null);
    JsonArray chunks = storedChunks(jobId, job.getString("streamToken"));
    long lastChunkAt = chunks.getJsonObject(chunks.size() - 1).getLong("timestamp");
    JsonObject m = new JsonObject((String) js("return JSON.stringify(window.__long)"));
    double seconds = (m.getDouble("end") - m.getDouble("start")) / 1000;
    JsonObject figures = new JsonObject().put("chunks", chunks.size()).put("fps", m.getInteger("frames") / seconds)
      .put("streamSeconds", seconds).put("longTasks", m.getInteger("longTasks")).put("longTaskMs", m.getDouble("longTaskMs"))
      .put("blockedMs", m.getDouble("blockedMs")).put("finalTextDelayMs", m.getLong("shownAt") - lastChunkAt);
    Files.writeString(ARTIFACTS.resolve("ui-long-answer.json"), figures.encodePrettily());
    System.out.println("UI long answer (20,000 tokens at 2,000 tokens/s): " + figures.encode());
    waitFor(Duration.ofSeconds(10), d -> "completed".equals(jobState(jobId)));
    assertEquals(20_000, chunks.size());
    StringBuilder text = new StringBuilder();
    chunks.forEach(c -> text.append(((JsonObject) c).getString("chunk")));
    Object whole = ((JavascriptExecutor) driver).executeAsyncScript("""
      const [text, done] = arguments;
      import('/vendor/marked/marked.esm.js').then(({ marked }) => {
        const div = document.createElement('div');
        div.innerHTML = marked.parse(text); // the page's own renderer settings: one module instance
        done(div.textContent);
      });
      """, text.toString());
    assertEquals(normalize((String) whole), answerText(), "rendered block by block = rendered at once");
    assertTrue(figures.getLong("finalTextDelayMs") < 1000, "the end is shown within a second: " + figures);
    assertTrue(figures.getDouble("fps") >= 30, "the page keeps drawing: " + figures);
  }

  @Test
  void offlineIsShownWithinTwoSecondsAndTheStreamRecoversExactly() throws Exception {
    String jobId = submit("Go offline mid-answer", "ask");
    waitFor(Duration.ofSeconds(15), d -> answerText().length() > 10);
    ChromeDriver chrome = (ChromeDriver) driver;
    chrome.executeCdpCommand("Network.enable", Map.of());
    chrome.executeCdpCommand("Network.emulateNetworkConditions", Map.of("offline", true, "latency", 0, "downloadThroughput", -1, "uploadThroughput", -1));
    try {
      waitFor(Duration.ofSeconds(2), d -> "offline".equals(connState()));
    } finally {
      chrome.executeCdpCommand("Network.emulateNetworkConditions", Map.of("offline", false, "latency", 0, "downloadThroughput", -1, "uploadThroughput", -1));
    }
    waitFor(Duration.ofSeconds(30), d -> "completed".equals(jobState(jobId)));
    assertEquals(normalize(storedText(jobId)), answerText());
    assertTrue(List.of("connected", "streaming").contains(connState()), connState());
  }

  @Test
  void jobOpenedByLinkShowsItsTypeFitsTheScreenAndOffersItsLink() throws Exception {
    JsonObject job = submitHttp(new JsonObject().put("prompt", "A research job opened by link").put("type", "research"));
    String jobId = job.getString("jobId");
    By row = By.cssSelector("#timeline li[data-job='" + jobId + "']");
    for (int width : new int[] {1280, 375}) {
      driver.manage().window().setSize(new org.openqa.selenium.Dimension(width, 900));
      openLink(job);
      waitFor(Duration.ofSeconds(15), d -> !d.findElements(row).isEmpty()
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
