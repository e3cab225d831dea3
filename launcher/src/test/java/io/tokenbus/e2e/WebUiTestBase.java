package io.tokenbus.e2e;

import io.tokenbus.gateway.GatewayConfig;
import io.tokenbus.worker.WorkerConfig;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/**
 * The web UI tests' system, one per test class: the whole system in this JVM with a real Redis (see
 * {@link WebUiSystem}), the local generator at 25 tokens/s × 100 tokens, and the backend {@code "fake"}
 * ({@link FakeChatProvider}) for answers the generator never writes. Test classes run one after another.
 */
abstract class WebUiTestBase extends BrowserTestBase {
  protected static WebUiSystem system;
  protected static FakeChatProvider provider;
  protected static GatewayConfig gatewayConfig;
  protected static int port;

  @BeforeAll
  static void startSystem() throws Exception {
    Files.createDirectories(ARTIFACTS);
    system = WebUiSystem.start(vertx -> {
      provider = new FakeChatProvider(vertx);
      return WorkerConfig.defaults().withDrainMs(0).withLocalGenerator(25, 100).withBackends(List.of(provider.backend()), "local");
    }, GatewayConfig.defaults().withPort(0));
    gatewayConfig = system.gateway;
    port = system.port();
  }

  @AfterAll
  static void stopSystem() {
    if (system != null) {
      system.close();
      system = null;
    }
  }

  @Override
  protected int pagePort() {
    return port;
  }

  protected static HttpResponse<String> http(String method, String path, String token, String body) throws Exception {
    return system.http(method, path, token, body);
  }

  /** Submits over HTTP (any backend); returns {jobId, streamToken}. */
  protected static JsonObject submitHttp(JsonObject request) throws Exception {
    return system.submit(request);
  }

  /** Opens the page on a job as a shared link does. */
  protected void openLink(JsonObject job) {
    driver.get("http://127.0.0.1:" + port + "/?job=" + job.getString("jobId") + "&token=" + job.getString("streamToken"));
  }

  /** The stored chunks of a job, in order. */
  protected static JsonArray storedChunks(String jobId, String token) throws Exception {
    return system.storedChunks(jobId, token);
  }

  /** The job's whole output as stored (with the token the page keeps): what the page must show. */
  protected String storedText(String jobId) throws Exception {
    return system.storedText(jobId, token(jobId));
  }
}
