package weft.registry;

import java.util.Map;

/**
 * One address and port that serves one port of a service, with everything a generator needs to
 * decide whether and how a proxy may reach it.
 *
 * @param servicePort the service port this endpoint serves (the port clients call)
 * @param port the port on the workload (target port)
 * @param hostname the endpoint's own DNS label ({@code HOSTNAME.SERVICE.NS.svc.cluster.local}, a
 *     StatefulSet pod's), null when it has none
 */
public record WorkloadEndpoint(String address, int servicePort, int port, Map<String, String> labels,
    String clusterId, String network, Locality locality, String serviceAccount, Health health, int weight,
    String workloadName, String hostname) implements Comparable<WorkloadEndpoint> {

  /** Mirrors Envoy's health statuses that a control plane may send. */
  public enum Health { HEALTHY, UNHEALTHY, DRAINING }

  /** Istio's prefix for an endpoint that is a Unix domain socket (ServiceEntry and WorkloadEntry accept them). */
  public static final String UNIX_PREFIX = "unix://";

  public WorkloadEndpoint {
    labels = Map.copyOf(labels);
  }

  /** An endpoint without a DNS name of its own. */
  public WorkloadEndpoint(String address, int servicePort, int port, Map<String, String> labels, String clusterId,
      String network, Locality locality, String serviceAccount, Health health, int weight, String workloadName) {
    this(address, servicePort, port, labels, clusterId, network, locality, serviceAccount, health, weight,
        workloadName, null);
  }

  /** The socket path of a {@code unix://} endpoint (e.g. {@code /var/run/app.sock}, or {@code @name}), else null. */
  public String unixSocketPath() {
    return address.startsWith(UNIX_PREFIX) ? address.substring(UNIX_PREFIX.length()) : null;
  }

  @Override
  public int compareTo(WorkloadEndpoint o) {
    int c = Integer.compare(servicePort, o.servicePort);
    if (c != 0) return c;
    c = clusterId.compareTo(o.clusterId);
    if (c != 0) return c;
    c = address.compareTo(o.address);
    return c != 0 ? c : Integer.compare(port, o.port);
  }
}
