package weft.model;

import java.util.List;
import java.util.Map;

/**
 * A {@code telemetry.istio.io} Telemetry (v1 or v1alpha1): access logging and tracing settings for the
 * workloads it selects. Scope is Istio's: in the root namespace without selector or target it is
 * mesh-wide, elsewhere without one it covers its namespace, with a {@code selector} (or
 * {@code targetRefs} naming a Gateway) it covers those workloads.
 *
 * @param selector the workload selector's {@code matchLabels}; null when none (or empty)
 * @param targetRefs {@code targetRef}/{@code targetRefs}, in order; empty when none
 * @param metricsOverrides how many {@code metrics} entries it has: they configure Istio's own
 *     {@code istio.stats} filter, which only Istio's Envoy build has, so Weft accepts and reports them
 */
public record Telemetry(ResourceId id, Map<String, String> selector, List<TargetRef> targetRefs,
    List<AccessLogging> accessLogging, List<Tracing> tracing, int metricsOverrides) implements Resource {
  public Telemetry {
    selector = selector == null || selector.isEmpty() ? null : Map.copyOf(selector);
    targetRefs = List.copyOf(targetRefs);
    accessLogging = List.copyOf(accessLogging);
    tracing = List.copyOf(tracing);
  }

  /** Istio's WorkloadMode: which side of a workload's traffic an entry covers. */
  public enum Mode {
    CLIENT_AND_SERVER, CLIENT, SERVER;

    /** Whether an entry of this mode covers traffic of {@code side} (CLIENT or SERVER). */
    public boolean covers(Mode side) {
      return this == CLIENT_AND_SERVER || this == side;
    }
  }

  /** A policy target: {@code group}/{@code kind} named {@code name} in the Telemetry's namespace. */
  public record TargetRef(String group, String kind, String name) {}

  /**
   * One {@code accessLogging} entry.
   *
   * @param providers provider names (MeshConfig {@code extensionProviders}); empty: inherit the parent's
   * @param disabled {@code disabled}; null when unset
   * @param filterExpression {@code filter.expression} (a CEL expression); null when unset
   */
  public record AccessLogging(List<String> providers, Boolean disabled, String filterExpression, Mode mode) {
    public AccessLogging {
      providers = List.copyOf(providers);
    }
  }

  /**
   * One {@code tracing} entry; null fields are unset (inherited).
   *
   * @param customTags tag name to its source, in written order
   */
  public record Tracing(List<String> providers, Mode mode, Double randomSamplingPercentage,
      Boolean disableSpanReporting, Map<String, CustomTag> customTags, Boolean useRequestIdForTraceSampling) {
    public Tracing {
      providers = List.copyOf(providers);
      customTags = customTags == null ? null : java.util.Collections.unmodifiableMap(
          new java.util.LinkedHashMap<>(customTags));
    }
  }

  /**
   * A custom span tag: exactly one of a literal value, an environment variable of the proxy, or a
   * request header, the last two with a default.
   */
  public record CustomTag(String literal, String environment, String header, String defaultValue) {}
}
