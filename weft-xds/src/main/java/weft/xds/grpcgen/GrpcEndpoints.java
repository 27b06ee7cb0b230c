package weft.xds.grpcgen;

import com.google.protobuf.Any;
import com.google.protobuf.UInt32Value;
import io.envoyproxy.envoy.config.core.v3.Address;
import io.envoyproxy.envoy.config.core.v3.HealthStatus;
import io.envoyproxy.envoy.config.core.v3.SocketAddress;
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
import weft.xds.ClusterName;
import weft.xds.view.ProxyView;

/** Endpoint assignments for proxyless clients, grouped by locality. */
public final class GrpcEndpoints {
  private GrpcEndpoints() {}

  /** The endpoint assignment for this cluster name, or null (with the reason recorded in the view). */
  public static Any generate(ProxyView view, String name, EndpointCache cache) {
    ClusterName cn = ClusterName.parse(name);
    if (cn == null) {
      view.drop(name, "not an outbound|PORT|SUBSET|HOST cluster name");
      return null;
    }
    ServiceView service = view.service(cn.host());
    // A watched cluster whose service is gone or hidden gets an empty assignment: gRPC then fails
    // fast instead of waiting for a resource that will never come.
    if (service == null) return Any.pack(ClusterLoadAssignment.newBuilder().setClusterName(name).build());
    DestinationRule dr = cn.subset().isEmpty() ? null : view.destinationRule(cn.host());
    DestinationRule.Subset subset = Policies.subset(dr, cn.subset());
    if (!cn.subset().isEmpty() && subset == null) {
      view.drop(name, "no DestinationRule for " + cn.host() + " defines subset " + cn.subset());
    }
    String network = view.proxy().network();
    // A cluster-local host's endpoints depend on which cluster the proxy is in.
    String onlyCluster = view.clusterLocal(cn.host()) ? view.proxy().clusterId() : null;
    String variant = name + "|" + network + "|" + onlyCluster;
    EndpointCache.Generated g = cache.get(cn.host(), service, dr, variant,
        () -> build(name, cn, service, subset, network, onlyCluster));
    if (g.dropped() != null) view.drop(name, g.dropped());
    return g.resource();
  }

  private static EndpointCache.Generated build(String name, ClusterName cn, ServiceView service,
      DestinationRule.Subset subset, String network, String onlyCluster) {
    Map<Locality, List<LbEndpoint>> byLocality = new TreeMap<>();
    Map<Locality, Integer> weights = new TreeMap<>();
    int otherNetwork = 0;
    for (WorkloadEndpoint e : service.endpoints()) {
      if (e.servicePort() != cn.port()) continue;
      if (onlyCluster != null && !onlyCluster.equals(e.clusterId())) continue;
      if (!cn.subset().isEmpty() && (subset == null || !Labels.matches(subset.labels(), e.labels()))) continue;
      // A proxyless client has no gateway to cross networks through (Istio filters these too).
      if (!network.isEmpty() && !e.network().isEmpty() && !network.equals(e.network())) {
        otherNetwork++;
        continue;
      }
      int weight = e.weight() > 0 ? e.weight() : 1;
      byLocality.computeIfAbsent(e.locality(), l -> new ArrayList<>()).add(LbEndpoint.newBuilder()
          .setEndpoint(Endpoint.newBuilder().setAddress(Address.newBuilder().setSocketAddress(
              SocketAddress.newBuilder().setAddress(e.address()).setPortValue(e.port()))))
          .setHealthStatus(health(e.health()))
          .setLoadBalancingWeight(UInt32Value.of(weight))
          .build());
      weights.merge(e.locality(), weight, Integer::sum);
    }
    ClusterLoadAssignment.Builder cla = ClusterLoadAssignment.newBuilder().setClusterName(name);
    byLocality.forEach((locality, endpoints) -> cla.addEndpoints(LocalityLbEndpoints.newBuilder()
        .setLocality(io.envoyproxy.envoy.config.core.v3.Locality.newBuilder()
            .setRegion(locality.region()).setZone(locality.zone()).setSubZone(locality.subzone()))
        // grpc-java ignores localities without weight, so every locality carries the sum of its endpoints.
        .setLoadBalancingWeight(UInt32Value.of(weights.get(locality)))
        .addAllLbEndpoints(endpoints)));
    String dropped = otherNetwork == 0 ? null
        : otherNetwork + " endpoint(s) in other networks left out: proxyless clients reach only their own network";
    return new EndpointCache.Generated(Any.pack(cla.build()), dropped);
  }

  private static HealthStatus health(WorkloadEndpoint.Health h) {
    return switch (h) {
      case HEALTHY -> HealthStatus.HEALTHY;
      case UNHEALTHY -> HealthStatus.UNHEALTHY;
      case DRAINING -> HealthStatus.DRAINING;
    };
  }
}
