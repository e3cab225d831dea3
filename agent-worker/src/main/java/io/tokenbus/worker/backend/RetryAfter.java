package io.tokenbus.worker.backend;

import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeFormatterBuilder;
import java.time.format.DateTimeParseException;
import java.time.temporal.ChronoField;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * The wait a {@code Retry-After} header asks for (RFC 9110 §10.2.3): delay-seconds, or an HTTP-date such as
 * {@code Fri, 31 Dec 2100 23:59:59 GMT} read against our wall clock, in any of the three formats a recipient must
 * accept (§5.6.7). Decimal seconds are accepted too, since some servers send them.
 */
final class RetryAfter {
  private static final Pattern SECONDS = Pattern.compile("\\d{1,12}(\\.\\d+)?");
  private static final List<DateTimeFormatter> DATES = List.of(
    DateTimeFormatter.RFC_1123_DATE_TIME,
    // obsolete RFC 850: Sunday, 06-Nov-94 08:49:37 GMT (two-digit years read as 1970-2069)
    new DateTimeFormatterBuilder().appendPattern("EEEE, dd-MMM-").appendValueReduced(ChronoField.YEAR, 2, 2, 1970)
      .appendPattern(" HH:mm:ss 'GMT'").toFormatter(Locale.US).withZone(ZoneOffset.UTC),
    // obsolete asctime: Sun Nov  6 08:49:37 1994
    DateTimeFormatter.ofPattern("EEE MMM ppd HH:mm:ss yyyy", Locale.US).withZone(ZoneOffset.UTC));

  private RetryAfter() {}

  /** Milliseconds to wait (0 for a date already past), or -1 when the header is absent or unreadable. */
  static long millis(String header, long nowEpochMs) {
    if (header == null || header.isBlank()) {
      return -1;
    }
    String v = header.strip();
    if (SECONDS.matcher(v).matches()) {
      return (long) Math.ceil(Double.parseDouble(v) * 1000);
    }
    for (DateTimeFormatter f : DATES) {
      try {
        return Math.max(0, ZonedDateTime.parse(v, f).toInstant().toEpochMilli() - nowEpochMs);
      } catch (DateTimeParseException notThisFormat) {
        // try the next
      }
    }
    return -1;
  }
}
