package weft.model;

import java.util.List;

/**
 * A {@code multicluster.x-k8s.io/v1alpha1} ServiceImport (KEP-1645): how the clusterset service
 * {@code NAME.NS.svc.clusterset.local} looks in this cluster, written by an MCS controller.
 *
 * @param type {@code ClusterSetIP} or {@code Headless}
 * @param ips the clusterset VIPs (at most one per address family); empty when none is assigned yet
 */
public record ServiceImport(ResourceId id, String type, List<String> ips, List<Port> ports) implements Resource {
  public static final String CLUSTER_SET_IP = "ClusterSetIP";
  public static final String HEADLESS = "Headless";

  public ServiceImport {
    ips = List.copyOf(ips);
    ports = List.copyOf(ports);
  }

  /** One port of the imported service; {@code name} is "" when unset. */
  public record Port(String name, int port, String protocol, String appProtocol) {}
}
