package io.tokenbus.worker.workflow;

import io.vertx.core.Future;
import java.util.List;

/**
 * Finds material for a research job. Pluggable: the default ({@link LocalDocsSearch}) searches a local document
 * folder, since no web search is assumed; a web or vector search implements the same two methods.
 */
public interface SearchTool {
  record Hit(String source, String snippet) {}

  /**
   * What a search found.
   *
   * @param hits       up to the asked number, best first
   * @param incomplete null when the search looked everywhere; else a sentence saying what it left out (e.g. it ran
   *                   out of time), for the person and the writer
   */
  record Found(List<Hit> hits, String incomplete) {}

  /** Up to {@code limit} hits, best first. Non-blocking. */
  Future<Found> search(String query, int limit);

  /** Null when the tool can search; otherwise what a person should be told (e.g. that nothing is configured). */
  default String unavailable() {
    return null;
  }
}
