package weft.model.parse;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import weft.model.MeshTelemetry;

/**
 * The telemetry fields of MeshConfig: {@code extensionProviders} of the telemetry kinds,
 * {@code defaultProviders} and the legacy {@code accessLogFile}/{@code accessLogFormat}/
 * {@code accessLogEncoding}. Providers of other kinds (external authorization) are left to their
 * own reader.
 */
final class MeshTelemetryParser {
  /** Telemetry provider kinds whose Envoy configuration Weft generates. */
  private static final Set<String> GENERATED = Set.of("envoyFileAccessLog", "zipkin", "opentelemetry", "datadog");
  /**
   * Telemetry provider kinds Istio has that Weft accepts without generating them: they need
   * Istio's Envoy build (prometheus, stackdriver) or a log service Weft does not configure.
   */
  private static final Set<String> ACCEPTED = Set.of("prometheus", "stackdriver", "lightstep", "skywalking",
      "envoyOtelAls", "envoyHttpAls", "envoyTcpAls", "sds");
  /** Provider kinds other readers handle (external authorization). */
  static final Set<String> OTHER_KINDS = Set.of("envoyExtAuthzHttp", "envoyExtAuthzGrpc");
  private static final List<String> ENCODINGS = List.of("TEXT", "JSON");

  private MeshTelemetryParser() {}

  static MeshTelemetry read(Fields f) {
    List<MeshTelemetry.Provider> providers = new ArrayList<>();
    for (Fields p : f.objects("extensionProviders")) {
      MeshTelemetry.Provider provider = provider(p);
      if (provider != null) {
        if (providers.stream().anyMatch(q -> q.name().equalsIgnoreCase(provider.name()))) {
          f.report().error(p.at("name"), "extension provider name \"" + provider.name() + "\" is used twice; names "
              + "must be unique (ignoring case)");
        }
        providers.add(provider);
      }
    }
    Fields defaults = f.object("defaultProviders");
    List<String> logging = defaults.strings("accessLogging");
    List<String> tracing = defaults.strings("tracing");
    List<String> metrics = defaults.strings("metrics");
    defaults.rejectUnknown("MeshConfig.DefaultProviders");
    String file = f.string("accessLogFile", "");
    String format = f.string("accessLogFormat", "");
    String encoding = f.enumOf("accessLogEncoding", ENCODINGS, "TEXT");
    if (encoding == null) encoding = "TEXT";
    if (encoding.equals("JSON") && !format.isEmpty()) {
      jsonLabels(f.report(), f.at("accessLogFormat"), format);
    }
    return new MeshTelemetry(providers, logging, tracing, metrics, file, format, encoding);
  }

  /** A telemetry provider, or null for another kind of provider or after an error. */
  private static MeshTelemetry.Provider provider(Fields p) {
    Report report = p.report();
    String name = p.string("name", "");
    List<String> kinds = new ArrayList<>();
    for (String k : GENERATED) if (p.has(k)) kinds.add(k);
    for (String k : ACCEPTED) if (p.has(k)) kinds.add(k);
    boolean other = false;
    for (String k : OTHER_KINDS) {
      if (p.has(k)) other = true;
    }
    if (other && kinds.isEmpty()) {
      // Read by the external-authorization reader; nothing of it is telemetry.
      p.drainUnread();
      return null;
    }
    if (name.isEmpty()) {
      report.error(p.at("name"), p.at("name") + " is missing; every extension provider needs a name");
    }
    if (kinds.size() != 1) {
      p.rejectUnknown("MeshConfig.ExtensionProvider");
      report.error(p.path(), p.path() + " must define exactly one provider (envoyFileAccessLog, zipkin, "
          + "opentelemetry, datadog, ...); it defines " + (kinds.isEmpty() ? "none" : String.join(", ", kinds)));
      return null;
    }
    String kind = kinds.get(0);
    Fields body = p.object(kind);
    MeshTelemetry.FileAccessLog file = null;
    MeshTelemetry.Tracer tracer = null;
    switch (kind) {
      case "envoyFileAccessLog" -> file = fileAccessLog(body);
      case "zipkin", "opentelemetry", "datadog" -> tracer = tracer(body, kind);
      default -> {
        body.drainUnread();
        report.warn(p.at(kind), p.at(kind) + " (provider " + name + ") is accepted but Weft does not generate its "
            + "configuration: " + (kind.equals("prometheus") || kind.equals("stackdriver")
                ? "it configures Istio's own stats filters, which stock Envoy does not have"
                : "Weft configures file access logs and zipkin, opentelemetry and datadog tracing only"));
      }
    }
    p.rejectUnknown("MeshConfig.ExtensionProvider");
    if (name.isEmpty() || GENERATED.contains(kind) && file == null && tracer == null) return null;
    return new MeshTelemetry.Provider(name, kind, file, tracer);
  }

  private static MeshTelemetry.FileAccessLog fileAccessLog(Fields f) {
    Report report = f.report();
    String path = f.string("path", "");
    if (path.isEmpty()) {
      report.error(f.at("path"), f.at("path") + " is missing; use /dev/stdout or a file path");
    } else if (!path.startsWith("/") || path.indexOf('\0') >= 0) {
      report.error(f.at("path"), f.at("path") + " " + Checks.quote(path) + " must be an absolute path such as "
          + "/dev/stdout");
    }
    Fields format = f.object("logFormat");
    String text = format.string("text");
    Map<String, String> labels = null;
    JsonNode rawLabels = format.take("labels");
    if (rawLabels != null) labels = labels(report, format.at("labels"), rawLabels);
    format.notImplemented("omitEmptyValues");
    format.rejectUnknown("EnvoyFileAccessLogProvider.LogFormat");
    if (text != null && labels != null) {
      report.error(format.path(), format.path() + " sets both text and labels; choose one format");
    }
    f.rejectUnknown("EnvoyFileAccessLogProvider");
    return report.hasErrors() || path.isEmpty() ? null : new MeshTelemetry.FileAccessLog(path, text, labels);
  }

  /** JSON log labels: each value an Envoy command operator string. */
  private static Map<String, String> labels(Report report, String at, JsonNode raw) {
    if (!raw.isObject()) {
      report.error(at, at + " must be a mapping of JSON keys to format strings, got " + Fields.describe(raw));
      return null;
    }
    Map<String, String> out = new LinkedHashMap<>();
    for (Map.Entry<String, JsonNode> e : raw.properties()) {
      if (!e.getValue().isTextual()) {
        report.error(at + "." + e.getKey(), at + "." + e.getKey() + " must be a string such as \"%START_TIME%\", "
            + "got " + Fields.describe(e.getValue()) + "; Weft reads flat labels only");
        continue;
      }
      out.put(e.getKey(), e.getValue().textValue());
    }
    return out;
  }

  /** The legacy JSON format: a JSON object of label to operator, as text. */
  private static void jsonLabels(Report report, String at, String format) {
    try {
      JsonNode node = new com.fasterxml.jackson.databind.ObjectMapper().readTree(format);
      if (node == null || !node.isObject()) throw new IllegalArgumentException("not an object");
      labels(report, at, node);
    } catch (Exception e) {
      report.error(at, at + " must be a JSON object of labels to format strings when accessLogEncoding is JSON, "
          + "e.g. {\"code\": \"%RESPONSE_CODE%\"}");
    }
  }

  private static MeshTelemetry.Tracer tracer(Fields f, String kind) {
    Report report = f.report();
    String service = f.string("service", "");
    Integer port = f.port("port");
    Integer maxTag = f.nonNegative("maxTagLength");
    String path = "/api/v2/spans";
    boolean traceId128 = false;
    if (kind.equals("zipkin")) {
      path = f.string("path", path);
      Boolean b = f.bool("enable64bitTraceId");
      traceId128 = b == null || !b;
      f.notImplemented("headers", "timeout", "traceContextOption");
    } else if (kind.equals("opentelemetry")) {
      f.notImplemented("http", "resourceDetectors", "dynatraceSampler", "grpc");
    }
    if (service.isEmpty()) {
      report.error(f.at("service"), f.at("service") + " is missing; give the collector's host, e.g. "
          + "zipkin.istio-system.svc.cluster.local");
    } else if (Checks.fqdn(service.startsWith("*") ? "x" + service : service) != null) {
      String host = service.contains("/") ? service.substring(service.indexOf('/') + 1) : service;
      if (Checks.fqdn(host) != null) {
        report.error(f.at("service"), f.at("service") + " " + Checks.quote(service) + " is not a host name");
      }
    }
    if (port == null) report.error(f.at("port"), f.at("port") + " is missing; give the collector's port");
    f.rejectUnknown(kind + " provider");
    if (service.isEmpty() || port == null) return null;
    // Istio allows "namespace/host"; the host alone names the service.
    String host = service.contains("/") ? service.substring(service.indexOf('/') + 1) : service;
    return new MeshTelemetry.Tracer(host, port, maxTag == null ? 0 : maxTag, path, traceId128);
  }
}
