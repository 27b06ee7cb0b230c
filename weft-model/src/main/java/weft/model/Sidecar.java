package weft.model;

import java.util.List;
import java.util.Map;

/**
 * A {@code networking.istio.io} Sidecar: which hosts the selected workloads may reach, on which
 * ports and addresses, and how their inbound ports are served.
 * {@code workloadSelector} is null when the Sidecar applies to its whole namespace.
 * Each egress host is {@code namespace/dnsName} as in Istio ({@code ./}, {@code * /}, {@code ~/} forms).
 * {@code outboundTrafficPolicy} is ALLOW_ANY, REGISTRY_ONLY, or null when the mesh's applies;
 * {@code inboundConnectionPool} is null when unset (Istio's unlimited defaults); {@code egressProxy}
 * (only with ALLOW_ANY) is where traffic to unknown destinations goes instead of passing through.
 */
public record Sidecar(ResourceId id, Map<String, String> workloadSelector, List<Egress> egress,
    String outboundTrafficPolicy, List<Ingress> ingress, DestinationRule.ConnectionPool inboundConnectionPool,
    VirtualService.Destination egressProxy) implements Resource {
  /** Istio's CaptureMode values. */
  public static final String CAPTURE_DEFAULT = "DEFAULT";
  public static final String CAPTURE_IPTABLES = "IPTABLES";
  public static final String CAPTURE_NONE = "NONE";

  /** A Sidecar without its own outbound traffic policy (the mesh's applies). */
  public Sidecar(ResourceId id, Map<String, String> workloadSelector, List<Egress> egress) {
    this(id, workloadSelector, egress, null);
  }

  public Sidecar(ResourceId id, Map<String, String> workloadSelector, List<Egress> egress,
      String outboundTrafficPolicy) {
    this(id, workloadSelector, egress, outboundTrafficPolicy, List.of(), null, null);
  }

  public Sidecar {
    workloadSelector = workloadSelector == null ? null : Map.copyOf(workloadSelector);
    egress = List.copyOf(egress);
    ingress = List.copyOf(ingress);
  }

  /**
   * One egress listener. {@code port} is 0 when it is not bound to a port (the catch-all);
   * {@code protocol} is null when the port does not declare one; {@code bind} is null when unset;
   * {@code captureMode} is one of the CAPTURE_ constants.
   */
  public record Egress(int port, List<String> hosts, String protocol, String bind, String captureMode) {
    public Egress(int port, List<String> hosts) {
      this(port, hosts, null, null, CAPTURE_DEFAULT);
    }

    public Egress {
      hosts = List.copyOf(hosts);
      if (captureMode == null) captureMode = CAPTURE_DEFAULT;
    }

    /** Istio's rule: NONE makes the listener bind a real socket, at {@code bind} or else at localhost. */
    public boolean bindsToPort() {
      return CAPTURE_NONE.equals(captureMode);
    }
  }

  /**
   * One ingress listener: the workload's port {@code port} ({@code protocol} as declared, upper case),
   * served at {@code bind} when set, forwarded to {@code defaultEndpoint} ({@code 127.0.0.1:PORT},
   * {@code 0.0.0.0:PORT}, their IPv6 forms, {@code :PORT} or {@code unix://PATH}; null to pass
   * connections to the address they were sent to). {@code connectionPool} overrides the Sidecar's
   * {@code inboundConnectionPool} for this port; null when unset.
   */
  public record Ingress(int port, String protocol, String name, String bind, String captureMode,
      String defaultEndpoint, DestinationRule.ConnectionPool connectionPool) {
    public Ingress {
      if (captureMode == null) captureMode = CAPTURE_DEFAULT;
    }

    public boolean bindsToPort() {
      return CAPTURE_NONE.equals(captureMode);
    }
  }

  /** Istio's InboundConnectionPoolForPort: the ingress listener's own pool for the port, else the Sidecar's. */
  public DestinationRule.ConnectionPool inboundConnectionPool(int port) {
    for (Ingress i : ingress) {
      if (i.port() == port && i.connectionPool() != null) return i.connectionPool();
    }
    return inboundConnectionPool;
  }
}
