package weft.xds.diag;

import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One line of {@code weft analyze}: a stable code, how serious, what resource (may be empty: a
 * whole file, a cluster), where it was declared ({@code CLUSTER:FILE}, or empty), and what to do.
 */
public record Finding(String code, Severity severity, String resource, String origin, String message)
    implements Comparable<Finding> {
  private static final Comparator<Finding> ORDER = Comparator.comparing(Finding::severity).reversed()
      .thenComparing(Finding::code).thenComparing(Finding::resource).thenComparing(Finding::origin)
      .thenComparing(Finding::message);

  public Finding {
    resource = resource == null ? "" : resource;
    origin = origin == null ? "" : origin;
  }

  static Finding of(AnalyzerCode code, String resource, String origin, String message) {
    return new Finding(code.name(), code.severity(), resource, origin, message);
  }

  @Override
  public int compareTo(Finding o) {
    return ORDER.compare(this, o);
  }

  /** The JSON shape of {@code /debug/analyze}. */
  public Map<String, Object> toMap() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("code", code);
    m.put("severity", severity.name());
    m.put("resource", resource);
    m.put("origin", origin);
    m.put("message", message);
    return m;
  }

  /** istioctl's log shape: {@code Error [IST0101] (VirtualService default/echo cluster1:vs.yaml) message}. */
  public String line() {
    String where = resource.isEmpty() ? origin : origin.isEmpty() ? resource : resource + " " + origin;
    return severity.label() + " [" + code + "]" + (where.isEmpty() ? "" : " (" + where + ")") + " " + message;
  }
}
