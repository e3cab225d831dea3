package io.tokenbus.runtime;

import io.vertx.core.Promise;
import io.vertx.ext.healthchecks.Status;

/**
 * A service's answer to "should this node get work now?", served by {@link ManagementServer} at
 * {@code /health/ready}. Called on the management listener's event loop, not the service's: read the service's state
 * on its own context (or from fields safe to read from another thread) and complete {@code status} with
 * {@link Status#OK()} or {@link Status#KO()}; an answer later than the configured timeout counts as down.
 */
public interface Readiness {
  /** The check's name in the {@code /health/ready} answer, e.g. {@code checkpoint-store}. */
  String readinessName();

  void readiness(Promise<Status> status);
}
