package weft.gateway.xds;

import io.envoyproxy.envoy.config.core.v3.HealthStatus;
import io.envoyproxy.envoy.config.core.v3.SocketAddress;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.endpoint.v3.LbEndpoint;
import io.envoyproxy.envoy.config.endpoint.v3.LocalityLbEndpoints;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;

/** The addresses of a load assignment that a new connection may go to. */
final class Endpoints {
  private Endpoints() {}

  /**
   * Endpoints of the most preferred priority that has any usable ones. Usable means HEALTHY, or
   * UNKNOWN, which Envoy and grpc-java both treat as healthy (an EDS server that does no health
   * checking sends UNKNOWN); UNHEALTHY, DRAINING, TIMEOUT and DEGRADED endpoints get no new connections.
   */
  static List<InetSocketAddress> usable(ClusterLoadAssignment cla) throws InvalidResourceException {
    int bestPriority = Integer.MAX_VALUE;
    List<InetSocketAddress> best = List.of();
    for (LocalityLbEndpoints group : cla.getEndpointsList()) {
      if (group.hasLoadBalancingWeight() && group.getLoadBalancingWeight().getValue() == 0) continue;
      List<InetSocketAddress> mine = new ArrayList<>();
      for (LbEndpoint e : group.getLbEndpointsList()) {
        if (e.getHealthStatus() != HealthStatus.HEALTHY && e.getHealthStatus() != HealthStatus.UNKNOWN) continue;
        if (!e.hasEndpoint()) {
          throw new InvalidResourceException("cluster " + cla.getClusterName()
              + " has an lb_endpoint without an endpoint (named endpoints are not supported)");
        }
        // A Unix socket (Istio's unix:// endpoints) is on some workload's host, never reachable from
        // here: skipped, so the rest of the cluster keeps serving.
        if (e.getEndpoint().getAddress().hasPipe()) continue;
        SocketAddress a = e.getEndpoint().getAddress().getSocketAddress();
        if (a.getAddress().isEmpty() || a.getPortValue() == 0) {
          throw new InvalidResourceException("cluster " + cla.getClusterName()
              + " has an endpoint without socket_address address and port_value");
        }
        mine.add(InetSocketAddress.createUnresolved(a.getAddress(), a.getPortValue()));
      }
      if (mine.isEmpty()) continue;
      if (group.getPriority() < bestPriority) {
        bestPriority = group.getPriority();
        best = new ArrayList<>(mine);
      } else if (group.getPriority() == bestPriority) {
        List<InetSocketAddress> merged = new ArrayList<>(best);
        merged.addAll(mine);
        best = merged;
      }
    }
    return List.copyOf(best);
  }
}
