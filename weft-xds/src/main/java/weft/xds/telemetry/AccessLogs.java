package weft.xds.telemetry;

import com.google.protobuf.Any;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import io.envoyproxy.envoy.config.accesslog.v3.AccessLog;
import io.envoyproxy.envoy.config.accesslog.v3.AccessLogFilter;
import io.envoyproxy.envoy.config.accesslog.v3.ExtensionFilter;
import io.envoyproxy.envoy.config.core.v3.DataSource;
import io.envoyproxy.envoy.config.core.v3.SubstitutionFormatString;
import io.envoyproxy.envoy.extensions.access_loggers.file.v3.FileAccessLog;
import io.envoyproxy.envoy.extensions.access_loggers.filters.cel.v3.ExpressionFilter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import weft.model.MeshTelemetry;

/**
 * Envoy {@code access_log} entries for the HTTP connection managers and TCP proxies Weft generates:
 * Envoy's file logger ({@code /dev/stdout} writes to the proxy's standard output) with a text or JSON
 * format of Envoy's command operators, gated by Envoy's CEL expression filter when a Telemetry gives
 * {@code filter.expression}.
 */
public final class AccessLogs {
  /** Envoy's file access logger. */
  static final String FILE_LOGGER = "envoy.access_loggers.file";
  /** Envoy's CEL access log filter (the name Istio gives it). */
  static final String CEL_FILTER = "envoy.access_loggers.extension_filters.cel";

  /**
   * The text format Istio writes when a provider gives none: request line, response code and flags,
   * sizes, timing, the request's identifying headers, and upstream and downstream addresses.
   */
  static final String DEFAULT_TEXT = "[%START_TIME%] \"%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% "
      + "%PROTOCOL%\" %RESPONSE_CODE% %RESPONSE_FLAGS% %RESPONSE_CODE_DETAILS% %CONNECTION_TERMINATION_DETAILS% "
      + "\"%UPSTREAM_TRANSPORT_FAILURE_REASON%\" %BYTES_RECEIVED% %BYTES_SENT% %DURATION% "
      + "%RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)% \"%REQ(X-FORWARDED-FOR)%\" \"%REQ(USER-AGENT)%\" "
      + "\"%REQ(X-REQUEST-ID)%\" \"%REQ(:AUTHORITY)%\" \"%UPSTREAM_HOST%\" %UPSTREAM_CLUSTER_RAW% "
      + "%UPSTREAM_LOCAL_ADDRESS% %DOWNSTREAM_LOCAL_ADDRESS% %DOWNSTREAM_REMOTE_ADDRESS% %REQUESTED_SERVER_NAME% "
      + "%ROUTE_NAME%\n";

  /** The JSON labels Istio writes when a provider asks for JSON without naming labels. */
  static final Map<String, String> DEFAULT_JSON = defaultJson();

  private AccessLogs() {}

  private static Map<String, String> defaultJson() {
    Map<String, String> m = new LinkedHashMap<>();
    m.put("start_time", "%START_TIME%");
    m.put("route_name", "%ROUTE_NAME%");
    m.put("method", "%REQ(:METHOD)%");
    m.put("path", "%REQ(X-ENVOY-ORIGINAL-PATH?:PATH)%");
    m.put("protocol", "%PROTOCOL%");
    m.put("response_code", "%RESPONSE_CODE%");
    m.put("response_flags", "%RESPONSE_FLAGS%");
    m.put("response_code_details", "%RESPONSE_CODE_DETAILS%");
    m.put("connection_termination_details", "%CONNECTION_TERMINATION_DETAILS%");
    m.put("bytes_received", "%BYTES_RECEIVED%");
    m.put("bytes_sent", "%BYTES_SENT%");
    m.put("duration", "%DURATION%");
    m.put("upstream_service_time", "%RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)%");
    m.put("x_forwarded_for", "%REQ(X-FORWARDED-FOR)%");
    m.put("user_agent", "%REQ(USER-AGENT)%");
    m.put("request_id", "%REQ(X-REQUEST-ID)%");
    m.put("authority", "%REQ(:AUTHORITY)%");
    m.put("upstream_host", "%UPSTREAM_HOST%");
    m.put("upstream_cluster", "%UPSTREAM_CLUSTER_RAW%");
    m.put("upstream_local_address", "%UPSTREAM_LOCAL_ADDRESS%");
    m.put("downstream_local_address", "%DOWNSTREAM_LOCAL_ADDRESS%");
    m.put("downstream_remote_address", "%DOWNSTREAM_REMOTE_ADDRESS%");
    m.put("requested_server_name", "%REQUESTED_SERVER_NAME%");
    m.put("upstream_transport_failure_reason", "%UPSTREAM_TRANSPORT_FAILURE_REASON%");
    return java.util.Collections.unmodifiableMap(m);
  }

  /** The access logs of a side, in provider-name order. */
  public static List<AccessLog> of(List<EffectiveTelemetry.AccessLog> logs) {
    List<AccessLog> out = new ArrayList<>();
    for (EffectiveTelemetry.AccessLog l : logs) {
      MeshTelemetry.FileAccessLog f = l.provider().fileAccessLog();
      SubstitutionFormatString format = f.labels() != null
          ? json(f.labels().isEmpty() ? DEFAULT_JSON : f.labels())
          : text(f.text() == null || f.text().isEmpty() ? DEFAULT_TEXT : f.text());
      out.add(file(f.path(), format, l.filterExpression()));
    }
    return out;
  }

  /**
   * MeshConfig's {@code accessLogFile} (Istio's older mesh-wide switch), used when no Telemetry and
   * no default provider configures logging; null when it is not set.
   */
  public static AccessLog legacy(MeshTelemetry mesh) {
    if (mesh.accessLogFile().isEmpty()) return null;
    String format = mesh.accessLogFormat();
    if (mesh.accessLogEncoding().equals("JSON")) {
      return file(mesh.accessLogFile(), json(format.isEmpty() ? DEFAULT_JSON : jsonLabels(format)), null);
    }
    return file(mesh.accessLogFile(), text(format.isEmpty() ? DEFAULT_TEXT : format), null);
  }

  private static AccessLog file(String path, SubstitutionFormatString format, String filterExpression) {
    AccessLog.Builder log = AccessLog.newBuilder().setName(FILE_LOGGER)
        .setTypedConfig(Any.pack(FileAccessLog.newBuilder().setPath(path).setLogFormat(format).build()));
    if (filterExpression != null) {
      log.setFilter(AccessLogFilter.newBuilder().setExtensionFilter(ExtensionFilter.newBuilder().setName(CEL_FILTER)
          .setTypedConfig(Any.pack(ExpressionFilter.newBuilder().setExpression(filterExpression).build()))));
    }
    return log.build();
  }

  /** Envoy writes text formats as they are; like Istio, end each entry with a newline. */
  private static SubstitutionFormatString text(String format) {
    String line = format.endsWith("\n") ? format : format + "\n";
    return SubstitutionFormatString.newBuilder()
        .setTextFormatSource(DataSource.newBuilder().setInlineString(line)).build();
  }

  private static SubstitutionFormatString json(Map<String, String> labels) {
    Struct.Builder s = Struct.newBuilder();
    labels.forEach((k, v) -> s.putFields(k, Value.newBuilder().setStringValue(v).build()));
    return SubstitutionFormatString.newBuilder().setJsonFormat(s).build();
  }

  /** The legacy JSON format text (checked by the MeshConfig parser), as flat string labels. */
  private static Map<String, String> jsonLabels(String format) {
    Map<String, String> out = new LinkedHashMap<>();
    try {
      var node = new com.fasterxml.jackson.databind.ObjectMapper().readTree(format);
      node.properties().forEach(e -> {
        if (e.getValue().isTextual()) out.put(e.getKey(), e.getValue().textValue());
      });
    } catch (java.io.IOException e) {
      return DEFAULT_JSON; // the parser refused such a mesh config; never reached with a checked one
    }
    return out;
  }
}
