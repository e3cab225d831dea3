package io.tokenbus.runtime;

import io.vertx.core.json.JsonObject;
import java.util.Map;

/**
 * Where a node serves its operator endpoints ({@code /metrics}, {@code /health/live}, {@code /health/ready}): a
 * listener of its own, on every role, apart from the gateway's public port (see {@link ManagementServer}).
 *
 * @param host           interface to listen on ({@code TOKENBUS_MANAGEMENT_HOST}, default every interface: the kubelet
 *                       and Prometheus reach the pod by its IP)
 * @param port           {@code TOKENBUS_MANAGEMENT_PORT}, default 9090; 0 picks a free port (tests, several processes on
 *                       one machine). Must differ from the gateway's HTTP port.
 * @param checkTimeoutMs a readiness check that has not answered within this time counts as down
 *                       ({@code TOKENBUS_MANAGEMENT_CHECK_TIMEOUT_MS}, default 2000; below the probes' 3 s timeout)
 */
public record ManagementConfig(String host, int port, long checkTimeoutMs) {
  public static final int DEFAULT_PORT = 9090;

  public ManagementConfig {
    if (host == null || host.isBlank()) {
      throw new IllegalArgumentException("TOKENBUS_MANAGEMENT_HOST must not be empty");
    }
    if (port < 0 || port > 65_535) {
      throw new IllegalArgumentException("TOKENBUS_MANAGEMENT_PORT must be 0 (any free port) to 65535, got " + port);
    }
    if (checkTimeoutMs < 1 || checkTimeoutMs > 60_000) {
      throw new IllegalArgumentException("TOKENBUS_MANAGEMENT_CHECK_TIMEOUT_MS must be 1 to 60000, got " + checkTimeoutMs);
    }
  }

  public static ManagementConfig defaults() {
    return new ManagementConfig("0.0.0.0", DEFAULT_PORT, 2000);
  }

  /** On loopback, any free port: what tests use. */
  public static ManagementConfig loopback() {
    return new ManagementConfig("127.0.0.1", 0, 2000);
  }

  public ManagementConfig withPort(int port) {
    return new ManagementConfig(host, port, checkTimeoutMs);
  }

  /** Reads {@code TOKENBUS_MANAGEMENT_HOST}, {@code TOKENBUS_MANAGEMENT_PORT}, {@code TOKENBUS_MANAGEMENT_CHECK_TIMEOUT_MS}. */
  public static ManagementConfig fromEnv(Map<String, String> env) {
    ManagementConfig d = defaults();
    return new ManagementConfig(
      env.getOrDefault("TOKENBUS_MANAGEMENT_HOST", d.host()),
      Env.integer(env, "TOKENBUS_MANAGEMENT_PORT", d.port()),
      Env.integer(env, "TOKENBUS_MANAGEMENT_CHECK_TIMEOUT_MS", (int) d.checkTimeoutMs()));
  }

  public JsonObject toJson() {
    return new JsonObject().put("host", host).put("port", port).put("checkTimeoutMs", checkTimeoutMs);
  }
}
