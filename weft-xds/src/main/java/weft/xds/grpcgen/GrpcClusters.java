package weft.xds.grpcgen;

import com.google.protobuf.Any;
import com.google.protobuf.UInt32Value;
import com.google.protobuf.UInt64Value;
import io.envoyproxy.envoy.config.cluster.v3.CircuitBreakers;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.cluster.v3.OutlierDetection;
import io.envoyproxy.envoy.config.core.v3.Address;
import io.envoyproxy.envoy.config.core.v3.SocketAddress;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.endpoint.v3.Endpoint;
import io.envoyproxy.envoy.config.endpoint.v3.LbEndpoint;
import io.envoyproxy.envoy.config.endpoint.v3.LocalityLbEndpoints;
import weft.model.DestinationRule;
import weft.registry.ServiceView;
import weft.xds.ClusterName;
import weft.xds.security.TlsContexts;
import weft.xds.security.UpstreamTls;
import weft.xds.view.ProxyView;

/**
 * Clusters {@code outbound|PORT|SUBSET|HOST} (EDS; single-host LOGICAL_DNS for DNS ServiceEntries) with the DestinationRule's policies, and Istio
 * mTLS (DestinationRule ISTIO_MUTUAL or auto mTLS, see {@link UpstreamTls}) through the
 * certificate-provider instances of the client's bootstrap. A client built without xDS channel
 * credentials ignores the TLS settings and stays plaintext.
 */
public final class GrpcClusters {
  private GrpcClusters() {}

  /** The cluster with this name, or null (with the reason recorded in the view). */
  public static Any generate(ProxyView view, String name) {
    Cluster c = cluster(view, name);
    return c == null ? null : Any.pack(c);
  }

  private static Cluster cluster(ProxyView view, String name) {
    ClusterName cn = ClusterName.parse(name);
    if (cn == null || !cn.direction().equals("outbound")) {
      view.drop(name, "not an outbound|PORT|SUBSET|HOST cluster name");
      return null;
    }
    ServiceView service = view.service(cn.host());
    if (service == null) return null;
    if (service.service().port(cn.port()).isEmpty()) {
      view.drop(name, "service " + cn.host() + " has no port " + cn.port());
      return null;
    }
    DestinationRule dr = view.destinationRule(cn.host());
    if (!cn.subset().isEmpty() && Policies.subset(dr, cn.subset()) == null) {
      view.drop(name, "no DestinationRule for " + cn.host() + " defines subset " + cn.subset());
      return null;
    }
    String refusal = UpstreamTls.refusal(view, dr, cn.port(), cn.subset());
    if (refusal != null) {
      view.drop(name, refusal);
      return null;
    }
    Cluster.Builder c = Cluster.newBuilder().setName(name);
    if (resolvedByDns(service)) {
      ClusterLoadAssignment dns = logicalDns(view, service, cn, dr, name);
      if (dns == null) return null;
      c.setType(Cluster.DiscoveryType.LOGICAL_DNS).setLoadAssignment(dns);
    } else {
      c.setType(Cluster.DiscoveryType.EDS)
          .setEdsClusterConfig(Cluster.EdsClusterConfig.newBuilder()
              .setEdsConfig(ProtoBuilders.ads())
              .setServiceName(name));
    }
    loadBalancer(view, c, dr, cn);
    DestinationRule.ConnectionPool pool = Policies.pick(dr, cn.port(), cn.subset(),
        DestinationRule.TrafficPolicy::connectionPool);
    if (pool != null) {
      if (pool.connectTimeout() != null) c.setConnectTimeout(ProtoBuilders.duration(pool.connectTimeout()));
      if (pool.http2MaxRequests() != null) {
        c.setCircuitBreakers(CircuitBreakers.newBuilder().addThresholds(CircuitBreakers.Thresholds.newBuilder()
            .setMaxRequests(UInt32Value.of(pool.http2MaxRequests()))));
      }
    }
    DestinationRule.OutlierDetection od = Policies.pick(dr, cn.port(), cn.subset(),
        DestinationRule.TrafficPolicy::outlierDetection);
    if (od != null) c.setOutlierDetection(outlierDetection(od));
    DestinationRule.Tls origination = UpstreamTls.origination(dr, cn.port(), cn.subset());
    UpstreamTls.Mtls mtls = origination != null ? null : UpstreamTls.decide(view, service, cn.port(), cn.subset(), dr, name);
    if (origination != null) {
      String host = cn.host();
      String sni = origination.sni() != null && !origination.sni().isEmpty() ? origination.sni()
          : host.startsWith("*") ? "" : host;
      c.setTransportSocket(TlsContexts.transportSocket(TlsContexts.proxylessOrigination(origination, sni)));
    } else if (mtls != null) {
      // A name for the cluster, so an east-west gateway can route the still-encrypted connection
      // to the workload; the SAN match (not the SNI) authenticates the server. grpc-java sends no
      // server name with underscores, so Istio's outbound_.PORT_.SUBSET_.HOST goes as its DNS alias.
      String alias = cn.sniAlias();
      // A DestinationRule's sni in Istio's form (a federated import names the exporting mesh's own
      // host so) goes as its alias too, or grpc-java would drop it.
      String given = mtls.sni().isEmpty() ? null : ClusterName.sniAliasOf(mtls.sni());
      String sni = given != null ? given : !mtls.sni().isEmpty() ? mtls.sni() : alias != null ? alias : cn.sni();
      c.setTransportSocket(TlsContexts.transportSocket(TlsContexts.proxylessClient(mtls.subjectAltNames(), sni)));
    }
    return c.build();
  }

  /** A ServiceEntry with resolution DNS or DNS_ROUND_ROBIN: its endpoints are names the client resolves. */
  static boolean resolvedByDns(ServiceView service) {
    if (service.service().origin() == weft.registry.MeshService.Origin.KUBERNETES) return false;
    String resolution = service.service().resolution();
    return "DNS".equals(resolution) || "DNS_ROUND_ROBIN".equals(resolution);
  }

  /**
   * grpc-java NACKs STRICT_DNS and takes a LOGICAL_DNS cluster with exactly one host (one locality,
   * one endpoint, a socket address it resolves itself): the first endpoint of the port (and
   * subset), else the entry's own host, as a DNS ServiceEntry without endpoints resolves its host.
   */
  private static ClusterLoadAssignment logicalDns(ProxyView view, ServiceView service, ClusterName cn,
      DestinationRule dr, String name) {
    DestinationRule.Subset subset = cn.subset().isEmpty() ? null : Policies.subset(dr, cn.subset());
    java.util.List<weft.registry.WorkloadEndpoint> picked = new java.util.ArrayList<>();
    for (weft.registry.WorkloadEndpoint e : service.endpoints()) {
      if (e.servicePort() != cn.port() || e.unixSocketPath() != null) continue;
      if (subset != null && !weft.model.Labels.matches(subset.labels(), e.labels())) continue;
      picked.add(e);
    }
    String host;
    int port;
    if (!picked.isEmpty()) {
      host = picked.get(0).address();
      port = picked.get(0).port();
      if (picked.size() > 1) {
        view.drop(name, "a proxyless gRPC client takes one host in a DNS cluster (LOGICAL_DNS); " + host
            + " is used and " + (picked.size() - 1) + " more endpoint(s) left out");
      }
    } else if (service.endpoints().isEmpty() && subset == null && !cn.host().startsWith("*")) {
      host = cn.host();
      port = targetPort(service.service(), cn.port());
    } else {
      view.drop(name, "DNS cluster without endpoints left out");
      return null;
    }
    return ClusterLoadAssignment.newBuilder().setClusterName(name)
        .addEndpoints(LocalityLbEndpoints.newBuilder().addLbEndpoints(LbEndpoint.newBuilder()
            .setEndpoint(Endpoint.newBuilder().setAddress(Address.newBuilder().setSocketAddress(
                SocketAddress.newBuilder().setAddress(host).setPortValue(port))))))
        .build();
  }

  /** The ServiceEntry port's {@code targetPort}, else the port (as for Envoy's DNS clusters). */
  private static int targetPort(weft.registry.MeshService s, int port) {
    if (s.serviceEntry() != null) {
      for (weft.model.ServiceEntry.Port p : s.serviceEntry().ports()) {
        if (p.number() == port && p.targetPort() > 0) return p.targetPort();
      }
    }
    return port;
  }

  private static void loadBalancer(ProxyView view, Cluster.Builder c, DestinationRule dr, ClusterName cn) {
    DestinationRule.LoadBalancer lb = Policies.pick(dr, cn.port(), cn.subset(),
        DestinationRule.TrafficPolicy::loadBalancer);
    if (lb == null) {
      c.setLbPolicy(Cluster.LbPolicy.ROUND_ROBIN);
      return;
    }
    if (lb.consistentHash() != null) {
      c.setLbPolicy(Cluster.LbPolicy.RING_HASH);
      if (lb.consistentHash().minimumRingSize() > 0) {
        c.setRingHashLbConfig(Cluster.RingHashLbConfig.newBuilder()
            .setMinimumRingSize(UInt64Value.of(lb.consistentHash().minimumRingSize())));
      }
      return;
    }
    String simple = lb.simple() == null ? "UNSPECIFIED" : lb.simple();
    switch (simple) {
      case "LEAST_REQUEST", "LEAST_CONN" -> c.setLbPolicy(Cluster.LbPolicy.LEAST_REQUEST);
      case "RANDOM", "PASSTHROUGH" -> {
        // grpc-java rejects a whole CDS response naming a policy it lacks; round robin is the nearest it has.
        view.drop(cn.toString(), "load balancer " + simple + " is not available to gRPC clients; using ROUND_ROBIN");
        c.setLbPolicy(Cluster.LbPolicy.ROUND_ROBIN);
      }
      default -> c.setLbPolicy(Cluster.LbPolicy.ROUND_ROBIN);
    }
  }

  /** Istio's mapping: consecutive errors eject; success-rate ejection stays off. */
  private static OutlierDetection outlierDetection(DestinationRule.OutlierDetection od) {
    OutlierDetection.Builder b = OutlierDetection.newBuilder()
        .setEnforcingSuccessRate(UInt32Value.of(0));
    if (od.consecutive5xxErrors() != null) {
      b.setConsecutive5Xx(UInt32Value.of(od.consecutive5xxErrors()));
      b.setEnforcingConsecutive5Xx(UInt32Value.of(100));
    }
    if (od.consecutiveGatewayErrors() != null) {
      b.setConsecutiveGatewayFailure(UInt32Value.of(od.consecutiveGatewayErrors()));
      b.setEnforcingConsecutiveGatewayFailure(UInt32Value.of(100));
    }
    if (od.interval() != null) b.setInterval(ProtoBuilders.duration(od.interval()));
    if (od.baseEjectionTime() != null) b.setBaseEjectionTime(ProtoBuilders.duration(od.baseEjectionTime()));
    if (od.maxEjectionPercent() != null) b.setMaxEjectionPercent(UInt32Value.of(od.maxEjectionPercent()));
    return b.build();
  }
}
