package weft.xds.grpcgen;

import com.google.protobuf.Any;
import weft.xds.eds.Assignments;
import weft.xds.view.ProxyView;

/** Endpoint assignments for proxyless clients: only their own network's endpoints. */
public final class GrpcEndpoints {
  private GrpcEndpoints() {}

  /** The endpoint assignment for this cluster name, or null (with the reason recorded in the view). */
  public static Any generate(ProxyView view, String name, EndpointCache cache, boolean failoverWithoutOutlierDetection) {
    return Assignments.generate(view, name, cache, Assignments.NetworkRule.OWN_NETWORK_ONLY,
        failoverWithoutOutlierDetection);
  }
}
