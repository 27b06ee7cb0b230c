package weft.model;

import java.util.List;
import java.util.Map;

/**
 * A {@code networking.istio.io} ServiceEntry. {@code location} is MESH_EXTERNAL or MESH_INTERNAL,
 * {@code resolution} NONE, STATIC, DNS or DNS_ROUND_ROBIN (Istio's defaults: MESH_EXTERNAL, NONE).
 * {@code workloadSelector} is null when the entry uses inline endpoints. {@code exportTo} empty = default.
 *
 * @param labels the entry's metadata labels ({@code networking.istio.io/enable-autoallocate-ip} is read)
 * @param creationTimestamp {@code metadata.creationTimestamp} as written (RFC 3339), "" when unset (files)
 * @param statusAddresses {@code status.addresses}: addresses a control plane allocated to the entry's
 *     hosts and persisted there (Istio's field), well-formed ones only
 */
public record ServiceEntry(ResourceId id, List<String> hosts, List<String> addresses, List<Port> ports,
    String location, String resolution, List<WorkloadEntry.Spec> endpoints, Map<String, String> workloadSelector,
    List<String> exportTo, List<String> subjectAltNames, Map<String, String> labels, String creationTimestamp,
    List<StatusAddress> statusAddresses) implements Resource {
  public ServiceEntry {
    hosts = List.copyOf(hosts);
    addresses = List.copyOf(addresses);
    ports = List.copyOf(ports);
    endpoints = List.copyOf(endpoints);
    workloadSelector = workloadSelector == null ? null : Map.copyOf(workloadSelector);
    exportTo = List.copyOf(exportTo);
    subjectAltNames = List.copyOf(subjectAltNames);
    labels = Map.copyOf(labels);
    creationTimestamp = creationTimestamp == null ? "" : creationTimestamp;
    statusAddresses = List.copyOf(statusAddresses);
  }

  /** An entry without metadata beyond its id and without status (tests, tools). */
  public ServiceEntry(ResourceId id, List<String> hosts, List<String> addresses, List<Port> ports, String location,
      String resolution, List<WorkloadEntry.Spec> endpoints, Map<String, String> workloadSelector,
      List<String> exportTo, List<String> subjectAltNames) {
    this(id, hosts, addresses, ports, location, resolution, endpoints, workloadSelector, exportTo, subjectAltNames,
        Map.of(), "", List.of());
  }

  /** {@code targetPort} is 0 when unset. */
  public record Port(int number, String protocol, String name, int targetPort) {}

  /** One entry of Istio's {@code status.addresses}: an address given to one of the entry's hosts. */
  public record StatusAddress(String host, String value) {}
}
