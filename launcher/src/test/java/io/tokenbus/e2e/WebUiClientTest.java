package io.tokenbus.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tokenbus.gateway.GatewayConfig;
import io.vertx.core.Promise;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.JavascriptExecutor;

/**
 * The browser client library ({@code /client/tokenbus.js}) in headless Chromium against the whole system in this JVM:
 * its helpers and its SSE transport on real streams, a resume that meets live chunks before its replay, and which
 * failures the SSE transport retries. Skipped without Chromium, unless required (CI).
 */
@RequiresBrowser
class WebUiClientTest extends WebUiTestBase {
  /** An in-page client with its own in-memory storage (not the tab's sessionStorage). */
  private static final String MEM_STORAGE = """
    const memStorage = () => { const m = new Map(); return { get length() { return m.size; }, key: (i) => [...m.keys()][i] ?? null,
      getItem: (k) => (m.has(k) ? m.get(k) : null), setItem: (k, v) => m.set(k, String(v)), removeItem: (k) => m.delete(k) }; };
    """;
  @Test
  void libraryHelpersWorkAgainstTheRealStream() throws Exception {
    String jobId = submit("Library helpers", "ask");
    waitFor(d -> "completed".equals(jobState(jobId)));
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

  /**
   * A rolling update or a restarting worker answers submissions 503 {@code no_worker} for a while: the client tries
   * again (over the bridge and over HTTP) and the job runs once a worker is back. Failed before: submit() threw the 503.
   */
  @Test
  void aSubmissionRefusedWhileNoWorkerRunsIsTriedAgainUntilOneDoes() throws Exception {
    system.stopWorker();
    try {
      js(MEM_STORAGE + """
        (async () => {
        const m = await import('/client/tokenbus.js');
        const r = window.__submit = {};
        for (const transport of ['sockjs', 'sse']) {
          const s = r[transport] = { retries: [], reply: null, error: null, text: '', status: null };
          const client = new m.TokenbusClient({ transport, storage: memStorage(), submitRetryMs: 60000 });
          await client.connect();
          client.submit({ prompt: `Submitted while no worker runs (${transport})` },
            { onRetry: (x) => s.retries.push(x.error.failureCode) })
            .then((reply) => {
              s.reply = reply;
              client.follow(reply.jobId, { onChunk: (c) => { s.text += c.chunk; }, onStatus: (st) => { s.status = st.type; } });
            }, (e) => { s.error = String(e.failureCode || e.message); });
        }
        })();
        """);
      waitFor(d -> Boolean.TRUE.equals(js(
        "const r = window.__submit; return !!r && !!r.sse && r.sockjs.retries.length > 0 && r.sse.retries.length > 0")));
    } finally {
      system.startWorker();
    }
    waitFor(Duration.ofSeconds(60), d -> Boolean.TRUE.equals(js(
      "const r = window.__submit; return (r.sockjs.status || r.sockjs.error) != null && (r.sse.status || r.sse.error) != null")));
    for (String transport : List.of("sockjs", "sse")) {
      JsonObject s = new JsonObject((String) js("return JSON.stringify(window.__submit." + transport + ")"));
      assertEquals(null, s.getString("error"), transport);
      assertTrue(s.getJsonArray("retries").stream().allMatch(c -> Integer.valueOf(503).equals(c)), transport + ": " + s);
      assertEquals("job:completed", s.getString("status"), transport);
      JsonObject reply = s.getJsonObject("reply");
      assertEquals(system.storedText(reply.getString("jobId"), reply.getString("streamToken")), s.getString("text"), transport);
    }
  }

  /** The page says why a submission waits while no worker runs, and shows the job once one does. */
  @Test
  void thePageSaysItWaitsForAWorkerAndRunsTheJobWhenOneComes() throws Exception {
    system.stopWorker();
    String jobId;
    try {
      driver.findElement(org.openqa.selenium.By.id("prompt")).sendKeys("Submitted from the page while no worker runs");
      driver.findElement(org.openqa.selenium.By.id("submit")).click();
      String said = waitFor(d -> {
        String t = d.findElement(org.openqa.selenium.By.id("form-error")).getText();
        return t.contains("trying again") ? t : null;
      });
      assertTrue(said.startsWith("no_worker"), said);
    } finally {
      system.startWorker();
    }
    jobId = waitFor(d -> {
      List<org.openqa.selenium.WebElement> rows = d.findElements(org.openqa.selenium.By.cssSelector("#timeline li[data-job]"));
      return rows.isEmpty() ? null : rows.get(0).getAttribute("data-job");
    });
    waitFor(d -> "completed".equals(jobState(jobId)));
    assertEquals("", driver.findElement(org.openqa.selenium.By.id("form-error")).getText(), "the wait is no longer shown");
  }

  @Test
  void aResumeThatMeetsLiveChunksBeforeItsReplayAnswersAsksForNoSecondReplay() throws Exception {
    String jobId = submit("Resume while live chunks come first", "ask");
    waitFor(d -> answerText().length() > 10);
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
    waitFor(d -> js("return window.__resume && window.__resume.status") != null);
    assertEquals("job:completed", js("return window.__resume.status"));
    assertEquals("[]", js("return JSON.stringify(window.__resume.errors)"), "no 409 from a second, concurrent replay");
    assertEquals(1L, js("return window.__resume.replays"));
    assertEquals(storedText(jobId), js("return window.__resume.text"));
  }

  @Test
  void sseTransportRetriesWhereRetryingCanSucceedAndReportsWhereItCannot() throws Exception {
    // Two streams per client address: the page's bridge socket and one more. A third stream is refused with 429.
    GatewayConfig tight = GatewayConfig.defaults().withPort(0).withSecret(gatewayConfig.tokenSecret())
      .withConnections(GatewayConfig.Connections.defaults(20_000).withMaxStreamsPerAddress(2));
    WebUiSystem.Deployed tightGateway = system.deployGateway(tight);
    try {
      JsonObject job = submitHttp(new JsonObject().put("prompt", "Over SSE through a full gateway"));
      JsonObject other = submitHttp(new JsonObject().put("prompt", "Another job"));
      driver.get("http://127.0.0.1:" + tightGateway.port() + "/");
      waitFor(d -> List.of("connected", "streaming").contains(connState()));
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
      waitFor(d -> (Boolean) js("return !!(window.__sse && window.__sse.ready)"));
      assertEquals(1L, js("return window.__sse.refused"), "the address is full");
      waitFor(d -> (Boolean) js("return window.__sse.states.includes('reconnecting')"));
      js("window.__blockers.forEach((b) => b.abort())");
      waitFor(d -> js("return window.__sse.status") != null);
      assertEquals("job:completed", js("return window.__sse.status"));
      assertEquals("[]", js("return JSON.stringify(window.__sse.errors)"));
      String expected = WebUiSystem.text(WebUiSystem.storedChunks(tightGateway.port(), job.getString("jobId"), job.getString("streamToken")));
      assertEquals(expected, js("return window.__sse.text"));
      waitFor(d -> (Boolean) js("return window.__sse.denied.length > 0"));
      assertEquals("[\"403\"]", js("return JSON.stringify(window.__sse.denied)"), "one error, no retry loop");
    } finally {
      system.undeploy(tightGateway.id());
    }
  }
}
