package io.tokenbus.worker.backend;

import io.tokenbus.events.JobError;
import io.vertx.core.Future;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The configured backends by name, with a default; picks the one a job asks for. */
public final class Backends {
  private final Map<String, ModelBackend> byName = new LinkedHashMap<>();
  private final String defaultName;

  public Backends(List<ModelBackend> backends, String defaultName) {
    backends.forEach(b -> byName.put(b.name(), b));
    if (!byName.containsKey(defaultName)) {
      throw new IllegalArgumentException("default backend " + defaultName + " is not configured");
    }
    this.defaultName = defaultName;
  }

  /** The backend named by the job, else the default. */
  public ModelBackend choose(String backend) {
    ModelBackend b = byName.get(backend == null ? defaultName : backend);
    if (b == null) {
      throw new BackendException(JobError.UNKNOWN_BACKEND, "no backend named '" + backend + "'; configured: " + byName.keySet());
    }
    return b;
  }

  public Map<String, ModelBackend> all() {
    return Map.copyOf(byName);
  }

  public Future<Void> close() {
    return Future.all(byName.values().stream().map(ModelBackend::close).toList()).mapEmpty();
  }
}
