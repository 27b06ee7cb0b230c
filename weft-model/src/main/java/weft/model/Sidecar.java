package weft.model;

import java.util.List;
import java.util.Map;

/**
 * A {@code networking.istio.io} Sidecar: which hosts the selected workloads may reach.
 * {@code workloadSelector} is null when the Sidecar applies to its whole namespace.
 * Each egress host is {@code namespace/dnsName} as in Istio ({@code ./}, {@code * /}, {@code ~/} forms).
 */
public record Sidecar(ResourceId id, Map<String, String> workloadSelector, List<Egress> egress,
    String outboundTrafficPolicy) implements Resource {
  /** A Sidecar without its own outbound traffic policy (the mesh's applies). */
  public Sidecar(ResourceId id, Map<String, String> workloadSelector, List<Egress> egress) {
    this(id, workloadSelector, egress, null);
  }

  /** {@code outboundTrafficPolicy} is ALLOW_ANY, REGISTRY_ONLY, or null when the mesh's applies. */
  public Sidecar {
    workloadSelector = workloadSelector == null ? null : Map.copyOf(workloadSelector);
    egress = List.copyOf(egress);
  }

  /** {@code port} is 0 when the egress listener is not bound to a port. */
  public record Egress(int port, List<String> hosts) {
    public Egress {
      hosts = List.copyOf(hosts);
    }
  }
}
