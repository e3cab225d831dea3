package io.tokenbus.worker.workflow;

import io.vertx.core.Future;
import java.util.List;

/**
 * Finds material for a research job. Pluggable: the default ({@link LocalDocsSearch}) searches a local document
 * folder, since no web search is assumed; a web or vector search implements the same two methods.
 */
public interface SearchTool {
  record Hit(String source, String snippet) {}

  /** Up to {@code limit} hits, best first. Non-blocking. */
  Future<List<Hit>> search(String query, int limit);

  /** Null when the tool can search; otherwise what a person should be told (e.g. that nothing is configured). */
  default String unavailable() {
    return null;
  }
}
