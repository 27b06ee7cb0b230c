package weft.model;

import java.util.List;
import java.util.Map;

/**
 * The telemetry parts of Istio's MeshConfig: the {@code extensionProviders} that Telemetry resources
 * name for access logs and tracing, {@code defaultProviders}, and the older mesh-wide access log
 * settings ({@code accessLogFile}, {@code accessLogFormat}, {@code accessLogEncoding}) that apply
 * when no Telemetry and no default provider configure access logging (Istio's fallback).
 *
 * @param providers telemetry providers by name, in written order (names are matched ignoring case)
 * @param accessLogFile the legacy access log path; empty: off (Istio's default)
 * @param accessLogFormat the legacy format: Envoy format text (TEXT) or a JSON object of labels (JSON);
 *     empty: Istio's default format
 * @param accessLogEncoding TEXT or JSON
 */
public record MeshTelemetry(List<Provider> providers, List<String> defaultAccessLogging, List<String> defaultTracing,
    List<String> defaultMetrics, String accessLogFile, String accessLogFormat, String accessLogEncoding) {
  public static final MeshTelemetry NONE = new MeshTelemetry(List.of(), List.of(), List.of(), List.of(), "", "", "TEXT");

  public MeshTelemetry {
    providers = List.copyOf(providers);
    defaultAccessLogging = List.copyOf(defaultAccessLogging);
    defaultTracing = List.copyOf(defaultTracing);
    defaultMetrics = List.copyOf(defaultMetrics);
  }

  /** The provider named {@code name} (ignoring case, as Istio looks it up), or null. */
  public Provider provider(String name) {
    for (Provider p : providers) {
      if (p.name().equalsIgnoreCase(name)) return p;
    }
    return null;
  }

  /**
   * One telemetry extension provider. {@code type} is the MeshConfig field that defines it
   * ({@code envoyFileAccessLog}, {@code zipkin}, {@code opentelemetry}, {@code datadog}, ...); exactly
   * one of {@code fileAccessLog} and {@code tracer} is set for the kinds Weft generates, neither for
   * the others (prometheus, stackdriver, the gRPC access log services), which are accepted and
   * reported where used.
   */
  public record Provider(String name, String type, FileAccessLog fileAccessLog, Tracer tracer) {}

  /**
   * {@code envoyFileAccessLog}: a path ({@code /dev/stdout} for the proxy's standard output) and a
   * format: {@code text} (Envoy's command operators) or {@code labels} (a JSON object, label to operator),
   * or neither (Istio's default text format).
   */
  public record FileAccessLog(String path, String text, Map<String, String> labels) {
    public FileAccessLog {
      labels = labels == null ? null : java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(labels));
    }
  }

  /**
   * A tracing backend at {@code service:port} (a mesh host, reached through its outbound cluster).
   *
   * @param maxTagLength 0: Envoy's default
   * @param path zipkin's collector path ({@code /api/v2/spans} by default)
   * @param traceId128Bit zipkin: 128-bit trace ids (Istio's default; {@code enable64bitTraceId} turns it off)
   */
  public record Tracer(String service, int port, int maxTagLength, String path, boolean traceId128Bit) {}
}
