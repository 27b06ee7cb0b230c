package weft.xds.envoygen;

import io.envoyproxy.envoy.config.core.v3.HealthStatus;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.endpoint.v3.Endpoint;
import io.envoyproxy.envoy.config.endpoint.v3.LbEndpoint;
import io.envoyproxy.envoy.config.endpoint.v3.LocalityLbEndpoints;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import weft.model.DestinationRule;
import weft.model.Labels;
import weft.registry.Locality;
import weft.registry.ServiceView;
import weft.registry.WorkloadEndpoint;

/**
 * Endpoints of one service port (and subset) grouped by locality, as EDS sends them and as DNS
 * clusters carry them inline. Localities are sorted; each weighs the sum of its endpoints, so no
 * locality ends up with weight 0.
 */
final class LoadAssignments {
  private LoadAssignments() {}

  /**
   * The service's endpoints for {@code port}, those of other networks included, filtered by the
   * subset's labels and, when {@code onlyCluster} is not null, to that cluster.
   */
  static List<WorkloadEndpoint> select(ServiceView service, int port, DestinationRule.Subset subset, String onlyCluster) {
    List<WorkloadEndpoint> out = new ArrayList<>();
    for (WorkloadEndpoint e : service.endpoints()) {
      if (e.servicePort() != port) continue;
      if (onlyCluster != null && !onlyCluster.equals(e.clusterId())) continue;
      if (subset != null && !Labels.matches(subset.labels(), e.labels())) continue;
      out.add(e);
    }
    return out;
  }

  static ClusterLoadAssignment build(String clusterName, List<WorkloadEndpoint> endpoints) {
    Map<Locality, List<LbEndpoint>> byLocality = new TreeMap<>();
    Map<Locality, Long> weights = new TreeMap<>();
    for (WorkloadEndpoint e : endpoints) {
      int weight = e.weight() > 0 ? e.weight() : 1;
      byLocality.computeIfAbsent(e.locality(), l -> new ArrayList<>()).add(LbEndpoint.newBuilder()
          .setEndpoint(Endpoint.newBuilder().setAddress(Protos.address(e.address(), e.port())))
          .setHealthStatus(health(e.health()))
          .setLoadBalancingWeight(Protos.u32(weight))
          .build());
      weights.merge(e.locality(), (long) weight, Long::sum);
    }
    ClusterLoadAssignment.Builder cla = ClusterLoadAssignment.newBuilder().setClusterName(clusterName);
    byLocality.forEach((locality, lbEndpoints) -> cla.addEndpoints(LocalityLbEndpoints.newBuilder()
        .setLocality(io.envoyproxy.envoy.config.core.v3.Locality.newBuilder()
            .setRegion(locality.region()).setZone(locality.zone()).setSubZone(locality.subzone()))
        .setLoadBalancingWeight(Protos.u32(weights.get(locality)))
        .addAllLbEndpoints(lbEndpoints)));
    return cla.build();
  }

  /** Unready and terminating endpoints are sent as such, never as healthy: Envoy then keeps them out of rotation. */
  private static HealthStatus health(WorkloadEndpoint.Health h) {
    return switch (h) {
      case HEALTHY -> HealthStatus.HEALTHY;
      case UNHEALTHY -> HealthStatus.UNHEALTHY;
      case DRAINING -> HealthStatus.DRAINING;
    };
  }
}
