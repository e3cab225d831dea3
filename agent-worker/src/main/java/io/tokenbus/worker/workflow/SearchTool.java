package io.tokenbus.worker.workflow;

import io.vertx.core.Future;
import java.util.List;

/** Finds material for a research job. Pluggable: the default searches a local document folder. */
public interface SearchTool {
  record Hit(String source, String snippet) {}

  Future<List<Hit>> search(String query, int limit);
}
