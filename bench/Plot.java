import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Draws p50 and p99 latency against offered tokens/s from the bench's RESULT lines (one JSON object a line, as
 * bench/sweep.sh collects them) into an SVG, one line per transport and batch size. Needs only a JDK:
 *
 * <pre>java bench/Plot.java bench/results/sweep-TIME.jsonl docs/images/latency-vs-load.svg</pre>
 *
 * Both axes are logarithmic. A point whose run lost, repeated or failed anything is drawn as a red cross.
 */
public class Plot {
  record Point(String transport, int batch, double offered, double delivered, double p50, double p99, boolean clean) {}

  static final int W = 820;
  static final int H = 520;
  static final int L = 70;
  static final int R = 200;
  static final int T = 64;
  static final int B = 60;

  public static void main(String[] args) throws IOException {
    if (args.length < 2 || args.length > 3) {
      System.err.println("usage: java bench/Plot.java RESULTS.jsonl OUT.svg [NOTE]");
      System.exit(2);
    }
    List<Point> points = new ArrayList<>();
    for (String line : Files.readAllLines(Path.of(args[0]))) {
      if (line.isBlank() || !line.contains("\"latencyMs\"") || num(line, "offeredTokensPerSecond") <= 0) {
        continue;
      }
      points.add(new Point(str(line, "transport"), (int) num(line, "batch"), num(line, "offeredTokensPerSecond"),
        num(line, "tokensPerSecond"), num(line, "p50"), num(line, "p99"),
        num(line, "gaps") == 0 && num(line, "duplicates") == 0 && num(line, "streamsFailed") <= 0));
    }
    Map<String, List<Point>> series = new TreeMap<>();
    for (Point p : points) {
      series.computeIfAbsent("batch " + p.batch() + ", " + (p.transport().equals("sockjs") ? "bridge" : "SSE"),
        k -> new ArrayList<>()).add(p);
    }
    Files.writeString(Path.of(args[1]), svg(series, Path.of(args[0]).getFileName().toString(), args.length > 2 ? args[2] : ""));
    System.out.println("wrote " + args[1] + " (" + points.size() + " runs)");
  }

  static String svg(Map<String, List<Point>> series, String source, String note) {
    double xMin = 5_000;
    double xMax = 500_000;
    double yMin = 0.5;
    double yMax = 2_000;
    for (List<Point> s : series.values()) {
      for (Point p : s) {
        xMin = Math.min(xMin, p.offered());
        xMax = Math.max(xMax, p.offered());
        yMax = Math.max(yMax, p.p99() * 1.5);
      }
    }
    Axis x = new Axis(xMin, xMax, L, W - R);
    Axis y = new Axis(yMin, yMax, H - B, T);
    StringBuilder s = new StringBuilder();
    s.append(String.format(Locale.ROOT, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
      + "viewBox=\"0 0 %d %d\" font-family=\"sans-serif\" font-size=\"12\">\n", W, H, W, H));
    s.append("<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n");
    s.append(text(L, 22, "tokenbus: end-to-end chunk latency against offered load (p50 dashed, p99 solid)", "start", 14));
    s.append(text(L, 38, "one 2-vCPU machine: server + Redis + load generator; data: bench/results/" + source, "start", 11));
    if (!note.isEmpty()) {
      s.append(text(L, 53, note, "start", 11).replace("<text ", "<text fill=\"#b00\" "));
    }
    for (double v = decade(xMin); v <= xMax; v *= 10) {
      for (int m = 1; m < 10; m++) {
        double t = v * m;
        if (t < xMin || t > xMax) {
          continue;
        }
        s.append(line(x.at(t), T, x.at(t), H - B, m == 1 ? "#ccc" : "#eee"));
        if (m == 1 || m == 2 || m == 5) {
          s.append(text(x.at(t), H - B + 16, fmt(t), "middle", 11));
        }
      }
    }
    for (double v = decade(yMin); v <= yMax; v *= 10) {
      for (int m = 1; m < 10; m++) {
        double t = v * m;
        if (t < yMin || t > yMax) {
          continue;
        }
        s.append(line(L, y.at(t), W - R, y.at(t), m == 1 ? "#ccc" : "#eee"));
        if (m == 1 || m == 5) {
          s.append(text(L - 6, y.at(t) + 4, fmt(t), "end", 11));
        }
      }
    }
    s.append(line(L, y.at(100), W - R, y.at(100), "#c00\" stroke-dasharray=\"2,3"));
    s.append(text(W - R - 4, y.at(100) - 4, "p99 budget 100 ms", "end", 10));
    s.append(text((L + W - R) / 2.0, H - 18, "offered tokens/s (log)", "middle", 12));
    s.append(String.format(Locale.ROOT, "<text x=\"18\" y=\"%.1f\" text-anchor=\"middle\" transform=\"rotate(-90 18 %.1f)\">"
      + "latency, ms (log)</text>\n", (T + H - B) / 2.0, (T + H - B) / 2.0));
    String[] colors = {"#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2"};
    int i = 0;
    for (Map.Entry<String, List<Point>> e : series.entrySet()) {
      String c = colors[i % colors.length];
      List<Point> pts = new ArrayList<>(e.getValue());
      pts.sort(Comparator.comparingDouble(Point::offered));
      s.append(poly(pts, x, y, true, c, "")).append(poly(pts, x, y, false, c, "5,4"));
      for (Point p : pts) {
        for (double v : new double[] {p.p50(), p.p99()}) {
          if (p.clean()) {
            s.append(String.format(Locale.ROOT, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"%s\"/>\n", x.at(p.offered()), y.at(v), c));
          } else {
            double cx = x.at(p.offered());
            double cy = y.at(v);
            s.append(line(cx - 4, cy - 4, cx + 4, cy + 4, "#d00")).append(line(cx - 4, cy + 4, cx + 4, cy - 4, "#d00"));
          }
        }
      }
      int ly = T + 10 + 34 * i;
      s.append(line(W - R + 14, ly, W - R + 44, ly, c)).append(text(W - R + 50, ly + 4, e.getKey(), "start", 12));
      s.append(String.format(Locale.ROOT, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"%s\" stroke-dasharray=\"5,4\"/>\n",
        W - R + 14, ly + 14, W - R + 44, ly + 14, c));
      s.append(text(W - R + 50, ly + 18, "p50", "start", 10));
      i++;
    }
    s.append(text(W - R + 14, T + 20 + 34 * i, "red cross: a chunk lost, repeated", "start", 10));
    s.append(text(W - R + 14, T + 34 + 34 * i, "or a stream failed in that run", "start", 10));
    return s.append("</svg>\n").toString();
  }

  static String poly(List<Point> pts, Axis x, Axis y, boolean p99, String color, String dash) {
    StringBuilder b = new StringBuilder("<polyline fill=\"none\" stroke-width=\"1.6\" stroke=\"" + color + "\"");
    if (!dash.isEmpty()) {
      b.append(" stroke-dasharray=\"").append(dash).append('"');
    }
    b.append(" points=\"");
    for (Point p : pts) {
      b.append(String.format(Locale.ROOT, "%.1f,%.1f ", x.at(p.offered()), y.at(p99 ? p.p99() : p.p50())));
    }
    return b.append("\"/>\n").toString();
  }

  record Axis(double min, double max, double from, double to) {
    double at(double v) {
      double f = (Math.log10(Math.max(v, min)) - Math.log10(min)) / (Math.log10(max) - Math.log10(min));
      return from + f * (to - from);
    }
  }

  static double decade(double v) {
    return Math.pow(10, Math.floor(Math.log10(v)));
  }

  static String fmt(double v) {
    return v >= 1000 ? String.format(Locale.ROOT, "%.0fk", v / 1000) : v >= 1 ? String.format(Locale.ROOT, "%.0f", v)
      : String.format(Locale.ROOT, "%.1f", v);
  }

  static String line(double x1, double y1, double x2, double y2, String stroke) {
    return String.format(Locale.ROOT, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\"/>\n", x1, y1, x2, y2, stroke);
  }

  static String text(double x, double y, String t, String anchor, int size) {
    return String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\" font-size=\"%d\">%s</text>\n", x, y,
      anchor, size, t.replace("&", "&amp;").replace("<", "&lt;"));
  }

  static double num(String json, String key) {
    Matcher m = Pattern.compile("\"" + key + "\":(-?[0-9.eE+-]+)").matcher(json);
    return m.find() ? Double.parseDouble(m.group(1)) : -1;
  }

  static String str(String json, String key) {
    Matcher m = Pattern.compile("\"" + key + "\":\"([^\"]*)\"").matcher(json);
    return m.find() ? m.group(1) : "";
  }
}
