package io.tokenbus.worker.backend;

import io.tokenbus.events.JobError;

/** A model backend failure with a {@link JobError} code (backend_unreachable, backend_http_error, ...). */
public final class BackendException extends RuntimeException {
  private final String code;

  public BackendException(String code, String message) {
    super(message, null, false, false);
    this.code = code;
  }

  public String code() {
    return code;
  }

  public JobError toJobError() {
    return new JobError(code, getMessage());
  }
}
