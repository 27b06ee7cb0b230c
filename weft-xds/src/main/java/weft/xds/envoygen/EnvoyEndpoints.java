package weft.xds.envoygen;

import com.google.protobuf.Any;
import weft.xds.eds.Assignments;
import weft.xds.grpcgen.EndpointCache;
import weft.xds.view.ProxyView;

/**
 * Endpoint assignments for Envoy's EDS clusters {@code outbound|PORT|SUBSET|HOST}: the shared
 * builder with Istio's split horizon (other networks reached through their gateways).
 */
public final class EnvoyEndpoints {
  private EnvoyEndpoints() {}

  /** ClusterLoadAssignment for an EDS cluster; an empty one when the service is gone or hidden. */
  public static Any generate(ProxyView view, String name, EndpointCache cache, boolean failoverWithoutOutlierDetection) {
    return Assignments.generate(view, name, cache, Assignments.NetworkRule.SPLIT_HORIZON,
        failoverWithoutOutlierDetection);
  }
}
