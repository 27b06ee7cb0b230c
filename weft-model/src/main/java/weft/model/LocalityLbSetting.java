package weft.model;

import java.util.List;
import java.util.Map;

/**
 * Istio's LocalityLoadBalancerSetting, shared by MeshConfig and DestinationRule.
 * {@code enabled} is null when unset (Istio treats unset as enabled when the setting is present).
 */
public record LocalityLbSetting(List<Distribute> distribute, List<Failover> failover, List<String> failoverPriority,
    Boolean enabled) {
  public LocalityLbSetting {
    distribute = List.copyOf(distribute);
    failover = List.copyOf(failover);
    failoverPriority = List.copyOf(failoverPriority);
  }

  /** Traffic from locality {@code from} (may end in {@code *}) is spread over {@code to} by percent weights. */
  public record Distribute(String from, Map<String, Integer> to) {
    public Distribute {
      to = Map.copyOf(to);
    }
  }

  public record Failover(String from, String to) {}
}
