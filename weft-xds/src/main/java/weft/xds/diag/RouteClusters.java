package weft.xds.diag;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import io.envoyproxy.envoy.config.route.v3.Route;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.config.route.v3.VirtualHost;
import io.envoyproxy.envoy.config.route.v3.WeightedCluster;
import java.util.Set;
import java.util.TreeSet;

/** The cluster names a RouteConfiguration sends traffic to. */
final class RouteClusters {
  private RouteClusters() {}

  static Set<String> named(Any any) {
    Set<String> out = new TreeSet<>();
    RouteConfiguration rc;
    try {
      rc = any.unpack(RouteConfiguration.class);
    } catch (InvalidProtocolBufferException e) {
      return out;
    }
    for (VirtualHost vh : rc.getVirtualHostsList()) {
      for (Route r : vh.getRoutesList()) {
        if (!r.hasRoute()) continue;
        if (!r.getRoute().getCluster().isEmpty()) out.add(r.getRoute().getCluster());
        for (WeightedCluster.ClusterWeight w : r.getRoute().getWeightedClusters().getClustersList()) out.add(w.getName());
      }
    }
    return out;
  }
}
