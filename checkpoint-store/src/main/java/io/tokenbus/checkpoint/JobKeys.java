package io.tokenbus.checkpoint;

/**
 * Redis keys of one job. The hash tag {@code {id}} keeps both keys in one slot, so the scripts stay valid on Redis
 * Cluster.
 */
record JobKeys(String meta, String log) {
  static JobKeys of(String jobId) {
    return new JobKeys("tb:job:{" + jobId + "}:meta", "tb:job:{" + jobId + "}:log");
  }
}
