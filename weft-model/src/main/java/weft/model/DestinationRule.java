package weft.model;

import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * A {@code networking.istio.io} DestinationRule. Unset optional values are null (objects,
 * durations, boxed numbers) or empty (lists), never defaulted here: defaults belong to generators.
 */
public record DestinationRule(ResourceId id, String host, TrafficPolicy trafficPolicy, List<Subset> subsets,
    List<String> exportTo, Map<String, String> workloadSelector) implements Resource {
  public DestinationRule {
    subsets = List.copyOf(subsets);
    exportTo = List.copyOf(exportTo);
    workloadSelector = workloadSelector == null ? null : Map.copyOf(workloadSelector);
  }

  public record Subset(String name, Map<String, String> labels, TrafficPolicy trafficPolicy) {
    public Subset {
      labels = Map.copyOf(labels);
    }
  }

  /** {@code portLevelSettings} entries carry their port in {@code port}; the top level has port 0. */
  public record TrafficPolicy(int port, LoadBalancer loadBalancer, ConnectionPool connectionPool,
      OutlierDetection outlierDetection, Tls tls, List<TrafficPolicy> portLevelSettings) {
    public TrafficPolicy {
      portLevelSettings = List.copyOf(portLevelSettings);
    }
  }

  /**
   * {@code simple} is one of UNSPECIFIED, LEAST_CONN, LEAST_REQUEST, RANDOM, PASSTHROUGH, ROUND_ROBIN, or null.
   * {@code consistentHash} is non-null for consistent-hash load balancing.
   */
  public record LoadBalancer(String simple, ConsistentHash consistentHash, LocalityLbSetting localityLbSetting) {}

  /** Exactly one hash key kind is set; {@code minimumRingSize} is 0 when unset. */
  public record ConsistentHash(String httpHeaderName, String httpCookieName, boolean useSourceIp,
      String httpQueryParameterName, long minimumRingSize) {}

  public record ConnectionPool(Integer maxConnections, Duration connectTimeout, Integer http1MaxPendingRequests,
      Integer http2MaxRequests, Integer maxRequestsPerConnection, Integer maxRetries) {}

  public record OutlierDetection(Integer consecutive5xxErrors, Integer consecutiveGatewayErrors, Duration interval,
      Duration baseEjectionTime, Integer maxEjectionPercent, Integer minHealthPercent) {}

  /**
   * {@code mode} is DISABLE, SIMPLE, MUTUAL or ISTIO_MUTUAL. The file paths ({@code caCertificates},
   * {@code clientCertificate}, {@code privateKey}, {@code caCrl}) and {@code credentialName} are null
   * when unset; they name files on the proxy, or a Kubernetes Secret, for TLS origination
   * (SIMPLE, MUTUAL).
   */
  public record Tls(String mode, String sni, List<String> subjectAltNames, String caCertificates,
      String clientCertificate, String privateKey, String credentialName, boolean insecureSkipVerify, String caCrl) {
    public Tls {
      subjectAltNames = List.copyOf(subjectAltNames);
    }

    /** Only a mode, an SNI and server names (ISTIO_MUTUAL, DISABLE). */
    public Tls(String mode, String sni, List<String> subjectAltNames) {
      this(mode, sni, subjectAltNames, null, null, null, null, false, null);
    }

    /** SIMPLE or MUTUAL: Weft's proxy originates TLS to a server with its own certificate. */
    public boolean originates() {
      return "SIMPLE".equals(mode) || "MUTUAL".equals(mode);
    }
  }
}
