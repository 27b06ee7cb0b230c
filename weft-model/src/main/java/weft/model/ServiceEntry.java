package weft.model;

import java.util.List;
import java.util.Map;

/**
 * A {@code networking.istio.io} ServiceEntry. {@code location} is MESH_EXTERNAL or MESH_INTERNAL,
 * {@code resolution} NONE, STATIC, DNS or DNS_ROUND_ROBIN (Istio's defaults: MESH_EXTERNAL, NONE).
 * {@code workloadSelector} is null when the entry uses inline endpoints. {@code exportTo} empty = default.
 */
public record ServiceEntry(ResourceId id, List<String> hosts, List<String> addresses, List<Port> ports,
    String location, String resolution, List<WorkloadEntry.Spec> endpoints, Map<String, String> workloadSelector,
    List<String> exportTo, List<String> subjectAltNames) implements Resource {
  public ServiceEntry {
    hosts = List.copyOf(hosts);
    addresses = List.copyOf(addresses);
    ports = List.copyOf(ports);
    endpoints = List.copyOf(endpoints);
    workloadSelector = workloadSelector == null ? null : Map.copyOf(workloadSelector);
    exportTo = List.copyOf(exportTo);
    subjectAltNames = List.copyOf(subjectAltNames);
  }

  /** {@code targetPort} is 0 when unset. */
  public record Port(int number, String protocol, String name, int targetPort) {}
}
