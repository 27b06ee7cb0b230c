package weft.registry;

import java.util.List;
import weft.model.ProxyConfig;
import weft.model.Telemetry;
import weft.model.WorkloadGroup;

/**
 * Config that applies to proxies by namespace and workload labels rather than to hosts: Telemetry,
 * ProxyConfig and WorkloadGroup, from the config clusters, each sorted by resource id.
 */
public record ProxyPolicies(List<Telemetry> telemetries, List<ProxyConfig> proxyConfigs,
    List<WorkloadGroup> workloadGroups) {
  public static final ProxyPolicies EMPTY = new ProxyPolicies(List.of(), List.of(), List.of());

  public ProxyPolicies {
    telemetries = List.copyOf(telemetries);
    proxyConfigs = List.copyOf(proxyConfigs);
    workloadGroups = List.copyOf(workloadGroups);
  }

  /** The WorkloadGroup {@code namespace/name}, or null. */
  public WorkloadGroup workloadGroup(String namespace, String name) {
    for (WorkloadGroup g : workloadGroups) {
      if (g.id().namespace().equals(namespace) && g.id().name().equals(name)) return g;
    }
    return null;
  }
}
