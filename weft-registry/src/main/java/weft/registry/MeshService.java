package weft.registry;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * A service as the mesh sees it, after namespace sameness: one hostname, its ports, and the
 * virtual address it has in each cluster.
 *
 * @param exportTo namespaces the service is visible to ({@code *} = all); {@code .} already resolved
 *     to the service's own namespace
 * @param addresses cluster id → virtual IP in that cluster
 * @param clusters the clusters that declare this host (a Service or ServiceEntry there)
 * @param serviceEntry for {@link Origin#SERVICE_ENTRY}, the entry that declares the host (its labels,
 *     creation time and status decide its automatic address); null for Kubernetes Services
 * @param labels the declaring Service's or ServiceEntry's metadata labels (federation reads
 *     {@code weft.io/export-to} from them)
 * @param mcs for a Kubernetes host while Multi-Cluster Services are on, which clusters export it
 *     and whose endpoints a proxy may be sent; null otherwise (every cluster's endpoints are)
 */
public record MeshService(String hostname, String namespace, String name, Origin origin, List<Port> ports,
    Map<String, String> addresses, Set<String> exportTo, String resolution, boolean meshExternal,
    java.util.SortedSet<String> clusters, weft.model.ServiceEntry serviceEntry, Map<String, String> labels,
    Mcs mcs) {

  public enum Origin { KUBERNETES, SERVICE_ENTRY }

  public MeshService {
    ports = List.copyOf(ports);
    addresses = Map.copyOf(addresses);
    exportTo = Set.copyOf(exportTo);
    clusters = java.util.Collections.unmodifiableSortedSet(new java.util.TreeSet<>(clusters));
    labels = labels == null ? Map.of() : Map.copyOf(labels);
  }

  /** A service without MCS facts. */
  public MeshService(String hostname, String namespace, String name, Origin origin, List<Port> ports,
      Map<String, String> addresses, Set<String> exportTo, String resolution, boolean meshExternal,
      java.util.SortedSet<String> clusters, weft.model.ServiceEntry serviceEntry, Map<String, String> labels) {
    this(hostname, namespace, name, origin, ports, addresses, exportTo, resolution, meshExternal, clusters,
        serviceEntry, labels, (Mcs) null);
  }

  /** Labels from the ServiceEntry, if any. */
  public MeshService(String hostname, String namespace, String name, Origin origin, List<Port> ports,
      Map<String, String> addresses, Set<String> exportTo, String resolution, boolean meshExternal,
      java.util.SortedSet<String> clusters, weft.model.ServiceEntry serviceEntry, Mcs mcs) {
    this(hostname, namespace, name, origin, ports, addresses, exportTo, resolution, meshExternal, clusters,
        serviceEntry, serviceEntry == null ? Map.of() : serviceEntry.labels(), mcs);
  }

  /** Labels from the ServiceEntry, if any; no MCS facts. */
  public MeshService(String hostname, String namespace, String name, Origin origin, List<Port> ports,
      Map<String, String> addresses, Set<String> exportTo, String resolution, boolean meshExternal,
      java.util.SortedSet<String> clusters, weft.model.ServiceEntry serviceEntry) {
    this(hostname, namespace, name, origin, ports, addresses, exportTo, resolution, meshExternal, clusters,
        serviceEntry, serviceEntry == null ? Map.of() : serviceEntry.labels(), (Mcs) null);
  }

  /**
   * What Multi-Cluster Services decide about a Kubernetes host.
   *
   * @param clustersetHost this is {@code NAME.NS.svc.clusterset.local}: its endpoints are those of
   *     the exporting clusters only, every one of them reachable from anywhere
   * @param exportedBy the clusters with a ServiceExport of this Service, sorted
   * @param ownClusterOnly {@code --mcs-cluster-local} on a {@code cluster.local} host: a proxy is sent
   *     its own cluster's endpoints only
   * @param headless no exporting cluster gives the Service a cluster IP: the clusterset host has no
   *     VIP and resolves to its endpoints
   */
  public record Mcs(boolean clustersetHost, java.util.SortedSet<String> exportedBy, boolean ownClusterOnly,
      boolean headless) {
    public Mcs {
      exportedBy = java.util.Collections.unmodifiableSortedSet(new java.util.TreeSet<>(exportedBy));
    }

    /** Whether a proxy in {@code proxyCluster} may be sent an endpoint of {@code endpointCluster}. */
    public boolean reaches(String proxyCluster, String endpointCluster) {
      if (endpointCluster.equals(proxyCluster) || clustersetHost) return true;
      return !ownClusterOnly && exportedBy.contains(endpointCluster);
    }
  }

  /** A service with no ServiceEntry behind it. */
  public MeshService(String hostname, String namespace, String name, Origin origin, List<Port> ports,
      Map<String, String> addresses, Set<String> exportTo, String resolution, boolean meshExternal,
      java.util.SortedSet<String> clusters) {
    this(hostname, namespace, name, origin, ports, addresses, exportTo, resolution, meshExternal, clusters, null);
  }

  public record Port(String name, int number, String protocol) {}

  public Optional<Port> port(int number) {
    return ports.stream().filter(p -> p.number() == number).findFirst();
  }

  /** True when a proxy in {@code proxyNamespace} may see this service. */
  public boolean exportedTo(String proxyNamespace) {
    return exportTo.contains("*") || exportTo.contains(proxyNamespace);
  }
}
