package io.tokenbus.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.dataformat.yaml.YAMLMapper;

/**
 * deploy/grafana/tokenbus-dashboard.json and deploy/prometheus/alerts.yml query only series the code exports, with
 * labels the code sets: every metric name in their PromQL is derived from a meter registered in the services' main
 * sources ({@code Counter.builder("x")} exports {@code x_total}, a {@code Timer} {@code x_seconds_count|_sum|_max} and
 * {@code _bucket} when it has SLO buckets or a percentile histogram, ...). No Prometheus, Grafana or kubectl needed.
 */
class DashboardQueriesTest {
  static final Path DASHBOARD = Manifests.MODULE.resolve("grafana/tokenbus-dashboard.json");
  static final Path ALERTS = Manifests.MODULE.resolve("prometheus/alerts.yml");
  /** Labels Prometheus or its Kubernetes discovery adds to every series, and histogram bucket bounds. */
  static final Set<String> TARGET_LABELS = Set.of("le", "instance", "job", "pod", "namespace", "container", "quantile");
  static final Set<String> KEYWORDS = Set.of("by", "without", "on", "ignoring", "group_left", "group_right", "bool", "and",
    "or", "unless", "offset", "inf", "nan", "atan2");

  static Map<String, String> exported;
  static String sources;
  static Map<String, String> dashboardQueries;
  static Map<String, String> alertQueries;

  @BeforeAll
  static void load() {
    sources = Manifests.mainSourceText();
    exported = exportedSeries(sources);
    dashboardQueries = new LinkedHashMap<>();
    JsonNode dash = JsonMapper.builder().build().readTree(Manifests.read(DASHBOARD));
    collectExprs(dash, "dashboard", dashboardQueries);
    alertQueries = new LinkedHashMap<>();
    JsonNode alerts = YAMLMapper.builder().build().readTree(Manifests.read(ALERTS));
    for (JsonNode group : alerts.get("groups")) {
      for (JsonNode rule : group.get("rules")) {
        String name = rule.has("alert") ? rule.get("alert").asString() : rule.get("record").asString();
        alertQueries.put("alert " + name, rule.get("expr").asString());
      }
    }
  }

  // ---------------------------------------------------------------- what the code exports

  /** Series name → the meter it comes from, for every meter builder in {@code source}. */
  static Map<String, String> exportedSeries(String source) {
    Map<String, String> series = new LinkedHashMap<>();
    Matcher m = Pattern.compile("\\b(Counter|FunctionCounter|Gauge|TimeGauge|Timer|FunctionTimer|LongTaskTimer|DistributionSummary)"
      + "\\.builder\\(\\s*\"([a-zA-Z_:][a-zA-Z0-9_:]*)\"").matcher(source);
    while (m.find()) {
      int end = source.indexOf(".register(", m.end());
      String chain = end < 0 ? "" : source.substring(m.end(), end);
      Matcher unit = Pattern.compile("\\.baseUnit\\(\\s*\"([a-z]+)\"").matcher(chain);
      String name = m.group(2);
      String kind = m.group(1);
      boolean buckets = chain.contains("serviceLevelObjectives(") || chain.contains("publishPercentileHistogram(")
        || chain.contains("sla(");
      boolean quantiles = chain.contains("publishPercentiles(");
      List<String> names = new ArrayList<>();
      switch (kind) {
        case "Counter", "FunctionCounter" -> names.add(withSuffix(name, unit.find() ? unit.group(1) : null) + "_total");
        case "Gauge" -> names.add(withSuffix(name, unit.find() ? unit.group(1) : null));
        case "TimeGauge" -> names.add(withSuffix(name, "seconds"));
        case "Timer", "FunctionTimer", "LongTaskTimer", "DistributionSummary" -> {
          String base = kind.equals("DistributionSummary") ? withSuffix(name, unit.find() ? unit.group(1) : null)
            : withSuffix(name, "seconds");
          if (kind.equals("LongTaskTimer")) {
            names.add(base + "_active_count");
            names.add(base + "_duration_sum");
          } else {
            names.add(base + "_count");
            names.add(base + "_sum");
          }
          names.add(base + "_max");
          if (buckets) {
            names.add(base + "_bucket");
          }
          if (quantiles) {
            names.add(base);
          }
        }
        default -> throw new AssertionError(kind);
      }
      names.forEach(n -> series.putIfAbsent(n, kind + " " + name));
    }
    return series;
  }

  private static String withSuffix(String name, String unit) {
    return unit == null || name.endsWith("_" + unit) ? name : name + "_" + unit;
  }

  // ---------------------------------------------------------------- what the queries use

  record Names(Set<String> metrics, Set<String> labels) {}

  /** Metric and label names a PromQL expression refers to (Grafana variables such as $__rate_interval allowed). */
  static Names names(String expr) {
    String e = expr.replaceAll("\"(?:[^\"\\\\]|\\\\.)*\"|'(?:[^'\\\\]|\\\\.)*'|`[^`]*`", "\"\"") // string literals
      .replaceAll("\\[[^\\]]*\\]", " ")                  // range and subquery selectors
      .replaceAll("\\$\\{[^}]*\\}|\\$\\w+", " ");         // Grafana variables
    Set<String> labels = new LinkedHashSet<>();
    Matcher braces = Pattern.compile("\\{([^}]*)\\}").matcher(e);
    while (braces.find()) {
      Matcher l = Pattern.compile("([a-zA-Z_][a-zA-Z0-9_]*)\\s*(=~|!~|!=|=)").matcher(braces.group(1));
      while (l.find()) {
        labels.add(l.group(1));
      }
    }
    e = e.replaceAll("\\{[^}]*\\}", " ");
    Matcher grouping = Pattern.compile("\\b(by|without|on|ignoring|group_left|group_right)\\s*\\(([^)]*)\\)").matcher(e);
    while (grouping.find()) {
      for (String l : grouping.group(2).split(",")) {
        if (!l.isBlank()) {
          labels.add(l.trim());
        }
      }
    }
    e = grouping.replaceAll(" ");
    e = e.replaceAll("(?<![A-Za-z0-9_:.])\\d+(\\.\\d+)?([eE][+-]?\\d+)?[a-zA-Z]*", " "); // numbers and durations
    Set<String> metrics = new LinkedHashSet<>();
    Matcher id = Pattern.compile("[a-zA-Z_:][a-zA-Z0-9_:]*").matcher(e);
    while (id.find()) {
      String rest = e.substring(id.end()).stripLeading();
      if (!KEYWORDS.contains(id.group()) && !rest.startsWith("(")) {
        metrics.add(id.group());
      }
    }
    return new Names(metrics, labels);
  }

  static void collectExprs(JsonNode node, String where, Map<String, String> into) {
    if (node.isObject()) {
      String here = node.has("title") ? where + " / " + node.get("title").asString() : where;
      if (node.has("expr") && node.get("expr").isString()) {
        into.put(here + " " + (node.has("refId") ? node.get("refId").asString() : into.size()), node.get("expr").asString());
      }
      node.properties().forEach(p -> collectExprs(p.getValue(), here, into));
    } else if (node.isArray()) {
      node.forEach(n -> collectExprs(n, where, into));
    }
  }

  private static List<String> problems(Map<String, String> queries) {
    List<String> problems = new ArrayList<>();
    queries.forEach((where, expr) -> {
      Names n = names(expr);
      if (n.metrics().isEmpty()) {
        problems.add(where + ": names no metric: " + expr);
      }
      n.metrics().stream().filter(m -> !exported.containsKey(m))
        .forEach(m -> problems.add(where + ": " + m + " is not exported by the code"));
      n.labels().stream().filter(l -> !TARGET_LABELS.contains(l) && !sources.contains("\"" + l + "\""))
        .forEach(l -> problems.add(where + ": label " + l + " is set by no meter"));
    });
    return problems;
  }

  // ---------------------------------------------------------------- tests

  @Test
  void theSourcesExportTheSeriesDocsOperationsNames() {
    // Guards the derivation itself: a handful of series asserted on a live registry by gateway MetricsTest.
    for (String s : List.of("tokenbus_gateway_chunk_latency_seconds_bucket", "tokenbus_gateway_replays_total",
      "tokenbus_checkpoint_redis_up", "tokenbus_worker_job_tokens_sum", "tokenbus_worker_job_tokens_per_second_bucket",
      "tokenbus_checkpoint_jobs_closed_total", "tokenbus_worker_time_to_first_token_seconds_count")) {
      assertTrue(exported.containsKey(s), s + " not derived from the sources: " + new TreeSet<>(exported.keySet()));
    }
    assertFalse(exported.containsKey("tokenbus_gateway_replays"), "a counter is exported with _total only");
    assertFalse(exported.containsKey("tokenbus_worker_job_tokens_bucket"), "a summary without buckets has no _bucket");
  }

  @Test
  void theParserFindsMetricsAndLabelsAndNothingElse() {
    Names n = names("histogram_quantile(0.99, sum by (le, transport) (rate(tokenbus_gateway_chunk_latency_seconds_bucket"
      + "{transport=~\"sse|bridge\", code!=\"x}\"}[$__rate_interval]))) > 0.1 and on(instance) tokenbus_checkpoint_redis_up == 1e3");
    assertEquals(Set.of("tokenbus_gateway_chunk_latency_seconds_bucket", "tokenbus_checkpoint_redis_up"), n.metrics());
    assertEquals(Set.of("le", "transport", "code", "instance"), n.labels());
    List<String> p = problems(Map.of("typo", "sum(rate(tokenbus_gateway_chunks_writen_total{transprot=\"sse\"}[5m]))"));
    assertEquals(2, p.size(), p.toString());
  }

  @Test
  void everyDashboardQueryNamesOnlyExportedSeries() {
    assertTrue(dashboardQueries.size() >= 20, "dashboard queries found: " + dashboardQueries.size());
    List<String> problems = problems(dashboardQueries);
    assertTrue(problems.isEmpty(), String.join("\n", problems));
  }

  @Test
  void everyAlertQueryNamesOnlyExportedSeries() {
    List<String> problems = problems(alertQueries);
    assertTrue(problems.isEmpty(), String.join("\n", problems));
  }

  @Test
  void theDashboardCoversWhatOperatorsRunOn() {
    Set<String> used = new TreeSet<>();
    dashboardQueries.values().forEach(q -> used.addAll(names(q).metrics()));
    for (String s : List.of("tokenbus_worker_time_to_first_token_seconds_bucket", "tokenbus_gateway_chunk_latency_seconds_bucket",
      "tokenbus_gateway_chunks_written_total", "tokenbus_gateway_replays_total", "tokenbus_gateway_gap_repairs_total",
      "tokenbus_gateway_slow_consumer_disconnects_total", "tokenbus_gateway_too_many_requests_total",
      "tokenbus_checkpoint_redis_round_trip_seconds_bucket", "tokenbus_checkpoint_redis_up", "tokenbus_checkpoint_jobs_closed_total")) {
      assertTrue(used.contains(s), "the dashboard shows no " + s);
    }
    assertTrue(dashboardQueries.values().stream().anyMatch(q -> q.contains("code=\"worker_lost\"")), "no worker_lost panel");
  }

  @Test
  void theAlertsCoverTheOutagesAndAreComplete() {
    JsonNode alerts = YAMLMapper.builder().build().readTree(Manifests.read(ALERTS));
    Set<String> names = new TreeSet<>();
    for (JsonNode group : alerts.get("groups")) {
      for (JsonNode rule : group.get("rules")) {
        String name = rule.get("alert").asString();
        names.add(name);
        assertNotNull(rule.get("for"), name + ": without `for` one bad scrape pages someone");
        assertNotNull(rule.path("labels").get("severity"), name + ": severity label");
        assertNotNull(rule.path("annotations").get("summary"), name + ": summary annotation");
      }
    }
    assertTrue(names.containsAll(List.of("TokenbusRedisDown", "TokenbusStoreUnavailable", "TokenbusChunkLatencyP99OverBudget",
      "TokenbusWorkerLost")), names.toString());
    assertTrue(alertQueries.get("alert TokenbusWorkerLost").contains("worker_lost"));
  }
}
