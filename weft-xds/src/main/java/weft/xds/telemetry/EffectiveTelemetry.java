package weft.xds.telemetry;

import java.util.List;
import java.util.Map;
import weft.model.MeshTelemetry;
import weft.model.Telemetry;

/**
 * What the Telemetry resources in scope (and MeshConfig) ask of one proxy, per side of its traffic:
 * CLIENT (outbound and gateway listeners) and SERVER (inbound).
 *
 * @param clientLogs access logs of outbound and gateway listeners; null when nothing configures
 *     logging through Telemetry (MeshConfig's {@code accessLogFile} then applies, Istio's fallback);
 *     empty when logging is configured and turned off
 * @param serverLogs the same for inbound listeners
 * @param clientTracing null when nothing configures tracing
 * @param serverTracing the same for inbound
 * @param notes provider names that were named but do not exist, or cannot be generated: subject → why
 */
public record EffectiveTelemetry(List<AccessLog> clientLogs, List<AccessLog> serverLogs, Tracing clientTracing,
    Tracing serverTracing, Map<String, String> notes) {
  public static final EffectiveTelemetry NONE = new EffectiveTelemetry(null, null, null, null, Map.of());

  public EffectiveTelemetry {
    clientLogs = clientLogs == null ? null : List.copyOf(clientLogs);
    serverLogs = serverLogs == null ? null : List.copyOf(serverLogs);
    notes = Map.copyOf(notes);
  }

  public List<AccessLog> logs(Telemetry.Mode side) {
    return side == Telemetry.Mode.SERVER ? serverLogs : clientLogs;
  }

  public Tracing tracing(Telemetry.Mode side) {
    return side == Telemetry.Mode.SERVER ? serverTracing : clientTracing;
  }

  /** True when any side logs or traces. */
  public boolean any() {
    return clientLogs != null && !clientLogs.isEmpty() || serverLogs != null && !serverLogs.isEmpty()
        || clientTracing != null && clientTracing.provider() != null && !clientTracing.disabled()
        || serverTracing != null && serverTracing.provider() != null && !serverTracing.disabled();
  }

  /** One access log: a file provider and the CEL filter that gates it (null: every request). */
  public record AccessLog(MeshTelemetry.Provider provider, String filterExpression) {}

  /**
   * A side's tracing: its provider (null: none, so off), whether span reporting is off, the random
   * sampling percentage, custom tags and whether the request id decides sampling.
   */
  public record Tracing(MeshTelemetry.Provider provider, boolean disabled, double randomSamplingPercentage,
      Map<String, Telemetry.CustomTag> customTags, boolean useRequestIdForTraceSampling) {
    public Tracing {
      customTags = customTags == null ? Map.of()
          : java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(customTags));
    }

    /** Whether this side gets a tracing configuration at all. */
    public boolean on() {
      return provider != null && !disabled;
    }
  }
}
