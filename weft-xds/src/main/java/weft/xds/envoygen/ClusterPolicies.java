package weft.xds.envoygen;

import com.google.protobuf.Any;
import com.google.protobuf.UInt64Value;
import io.envoyproxy.envoy.config.cluster.v3.CircuitBreakers;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.cluster.v3.OutlierDetection;
import io.envoyproxy.envoy.config.core.v3.Http1ProtocolOptions;
import io.envoyproxy.envoy.config.core.v3.Http2ProtocolOptions;
import io.envoyproxy.envoy.config.core.v3.HttpProtocolOptions;
import io.envoyproxy.envoy.type.v3.Percent;
import weft.model.DestinationRule;
import weft.registry.MeshService;

/**
 * A DestinationRule's traffic policy on a cluster, as Istio's cluster_traffic_policy.go applies it:
 * connection pool (with Istio's unlimited defaults), HTTP/2 upstream, outlier detection and load
 * balancer.
 */
final class ClusterPolicies {
  /** Envoy's ring size default, which Istio sets explicitly when a rule asks for consistent hashing. */
  static final long DEFAULT_RING_SIZE = 1024;
  private static final long UNLIMITED = 0xFFFF_FFFFL;

  private ClusterPolicies() {}

  static void apply(Cluster.Builder c, DestinationRule dr, MeshService.Port port, String subset,
      DestinationRule.LoadBalancer lb) {
    DestinationRule.ConnectionPool pool = TrafficPolicies.pick(dr, port.number(), subset,
        DestinationRule.TrafficPolicy::connectionPool);
    DestinationRule.OutlierDetection od = TrafficPolicies.pick(dr, port.number(), subset,
        DestinationRule.TrafficPolicy::outlierDetection);
    connectionPool(c, pool);
    httpOptions(c, Protocols.isHttp2(port.protocol()), pool);
    if (od != null) outlierDetection(c, od);
    loadBalancer(c, lb);
  }

  /**
   * Envoy's default thresholds (1024 connections, 3 retries…) cut traffic during pod churn; Istio
   * lifts them all to the maximum and lets the DestinationRule lower them.
   */
  static void connectionPool(Cluster.Builder c, DestinationRule.ConnectionPool pool) {
    CircuitBreakers.Thresholds.Builder t = CircuitBreakers.Thresholds.newBuilder()
        .setMaxConnections(Protos.u32(UNLIMITED))
        .setMaxPendingRequests(Protos.u32(UNLIMITED))
        .setMaxRequests(Protos.u32(UNLIMITED))
        .setMaxRetries(Protos.u32(UNLIMITED))
        .setTrackRemaining(true);
    if (pool != null) {
      if (pool.connectTimeout() != null) c.setConnectTimeout(Protos.duration(pool.connectTimeout()));
      if (positive(pool.maxConnections())) t.setMaxConnections(Protos.u32(pool.maxConnections()));
      if (positive(pool.http1MaxPendingRequests())) t.setMaxPendingRequests(Protos.u32(pool.http1MaxPendingRequests()));
      if (positive(pool.http2MaxRequests())) t.setMaxRequests(Protos.u32(pool.http2MaxRequests()));
      if (positive(pool.maxRetries())) t.setMaxRetries(Protos.u32(pool.maxRetries()));
    }
    c.setCircuitBreakers(CircuitBreakers.newBuilder().addThresholds(t));
  }

  private static boolean positive(Integer v) {
    return v != null && v > 0;
  }

  /** HTTP/2 to gRPC and HTTP2 ports, and per-connection request limits, through Envoy's upstream HTTP options. */
  static void httpOptions(Cluster.Builder c, boolean http2, DestinationRule.ConnectionPool pool) {
    boolean perConnection = pool != null && positive(pool.maxRequestsPerConnection());
    if (!http2 && !perConnection) return;
    io.envoyproxy.envoy.extensions.upstreams.http.v3.HttpProtocolOptions.Builder options =
        io.envoyproxy.envoy.extensions.upstreams.http.v3.HttpProtocolOptions.newBuilder();
    io.envoyproxy.envoy.extensions.upstreams.http.v3.HttpProtocolOptions.ExplicitHttpConfig.Builder explicit =
        io.envoyproxy.envoy.extensions.upstreams.http.v3.HttpProtocolOptions.ExplicitHttpConfig.newBuilder();
    if (http2) {
      explicit.setHttp2ProtocolOptions(Http2ProtocolOptions.getDefaultInstance());
    } else {
      explicit.setHttpProtocolOptions(Http1ProtocolOptions.getDefaultInstance());
    }
    options.setExplicitHttpConfig(explicit);
    if (perConnection) {
      options.setCommonHttpProtocolOptions(HttpProtocolOptions.newBuilder()
          .setMaxRequestsPerConnection(Protos.u32(pool.maxRequestsPerConnection())));
    }
    c.putTypedExtensionProtocolOptions(WellKnown.HTTP_PROTOCOL_OPTIONS, Any.pack(options.build()));
  }

  /** Consecutive errors eject; success-rate ejection stays off; the panic threshold follows minHealthPercent (0 when unset). */
  private static void outlierDetection(Cluster.Builder c, DestinationRule.OutlierDetection od) {
    OutlierDetection.Builder b = OutlierDetection.newBuilder().setEnforcingSuccessRate(Protos.u32(0));
    if (od.consecutive5xxErrors() != null) {
      b.setConsecutive5Xx(Protos.u32(od.consecutive5xxErrors()));
      b.setEnforcingConsecutive5Xx(Protos.u32(od.consecutive5xxErrors() > 0 ? 100 : 0));
    }
    if (od.consecutiveGatewayErrors() != null) {
      b.setConsecutiveGatewayFailure(Protos.u32(od.consecutiveGatewayErrors()));
      b.setEnforcingConsecutiveGatewayFailure(Protos.u32(od.consecutiveGatewayErrors() > 0 ? 100 : 0));
    }
    if (od.interval() != null) b.setInterval(Protos.duration(od.interval()));
    if (od.baseEjectionTime() != null) b.setBaseEjectionTime(Protos.duration(od.baseEjectionTime()));
    if (positive(od.maxEjectionPercent())) b.setMaxEjectionPercent(Protos.u32(od.maxEjectionPercent()));
    c.setOutlierDetection(b);
    int minHealth = od.minHealthPercent() == null ? 0 : od.minHealthPercent();
    c.setCommonLbConfig(c.getCommonLbConfig().toBuilder()
        .setHealthyPanicThreshold(Percent.newBuilder().setValue(minHealth)));
  }

  /** Istio's default is LEAST_REQUEST; consistent hashing becomes a ring hash. */
  private static void loadBalancer(Cluster.Builder c, DestinationRule.LoadBalancer lb) {
    if (c.getType() == Cluster.DiscoveryType.ORIGINAL_DST) {
      c.setLbPolicy(Cluster.LbPolicy.CLUSTER_PROVIDED);
      return;
    }
    String simple = lb == null || lb.simple() == null ? "UNSPECIFIED" : lb.simple();
    c.setLbPolicy(switch (simple) {
      case "RANDOM" -> Cluster.LbPolicy.RANDOM;
      case "ROUND_ROBIN" -> Cluster.LbPolicy.ROUND_ROBIN;
      default -> Cluster.LbPolicy.LEAST_REQUEST;
    });
    if (lb != null && lb.consistentHash() != null) {
      long ring = lb.consistentHash().minimumRingSize() > 0 ? lb.consistentHash().minimumRingSize() : DEFAULT_RING_SIZE;
      c.setLbPolicy(Cluster.LbPolicy.RING_HASH)
          .setRingHashLbConfig(Cluster.RingHashLbConfig.newBuilder().setMinimumRingSize(UInt64Value.of(ring)));
    }
  }
}
