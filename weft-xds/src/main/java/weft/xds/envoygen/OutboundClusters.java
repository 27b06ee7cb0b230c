package weft.xds.envoygen;

import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import weft.model.DestinationRule;
import weft.registry.Locality;
import weft.registry.MeshService;
import weft.registry.ServiceView;
import weft.registry.WorkloadEndpoint;
import weft.xds.ClusterName;
import weft.xds.security.TlsContexts;
import weft.xds.security.UpstreamTls;
import weft.xds.view.ProxyView;

/**
 * Clusters {@code outbound|PORT||HOST} and {@code outbound|PORT|SUBSET|HOST} for one service, as
 * Istio's cluster.go builds them: the discovery type follows the service's resolution, and the
 * DestinationRule's policy is applied per port and subset. Istio mTLS (DestinationRule ISTIO_MUTUAL
 * or auto mTLS, see {@link UpstreamTls}) uses the SDS secrets of the proxy's agent, SNI
 * {@code outbound_.PORT_.SUBSET_.HOST} and the service's SPIFFE identities as SANs.
 */
final class OutboundClusters {
  private OutboundClusters() {}

  static Map<String, Cluster> of(ProxyView view, ServiceView sv, boolean router) {
    return of(view, sv, router, true);
  }

  /** @param mtlsAllowed false where the cluster must pass the client's own TLS through (AUTO_PASSTHROUGH) */
  static Map<String, Cluster> of(ProxyView view, ServiceView sv, boolean router, boolean mtlsAllowed) {
    Map<String, Cluster> out = new java.util.TreeMap<>();
    MeshService s = sv.service();
    Cluster.DiscoveryType type = discoveryType(s, router);
    DestinationRule dr = view.destinationRule(s.hostname());
    for (MeshService.Port p : s.ports()) {
      if (Protocols.isUdp(p.protocol())) continue;
      put(out, build(view, sv, p, type, dr, null, mtlsAllowed));
      if (dr == null) continue;
      for (DestinationRule.Subset subset : dr.subsets()) put(out, build(view, sv, p, type, dr, subset, mtlsAllowed));
    }
    return out;
  }

  private static void put(Map<String, Cluster> out, Cluster c) {
    if (c != null) out.put(c.getName(), c);
  }

  /**
   * Istio's convertResolution: registry services and STATIC entries by EDS, DNS entries resolved
   * by Envoy, and resolution NONE sent to the original destination, except on a gateway, which has
   * no original destination to keep and uses EDS.
   */
  static Cluster.DiscoveryType discoveryType(MeshService s, boolean router) {
    if (s.origin() == MeshService.Origin.KUBERNETES) return Cluster.DiscoveryType.EDS;
    String resolution = s.resolution() == null ? "NONE" : s.resolution();
    return switch (resolution) {
      case "DNS" -> Cluster.DiscoveryType.STRICT_DNS;
      case "DNS_ROUND_ROBIN" -> Cluster.DiscoveryType.LOGICAL_DNS;
      case "NONE" -> router ? Cluster.DiscoveryType.EDS : Cluster.DiscoveryType.ORIGINAL_DST;
      default -> Cluster.DiscoveryType.EDS;
    };
  }

  private static Cluster build(ProxyView view, ServiceView sv, MeshService.Port port, Cluster.DiscoveryType type,
      DestinationRule dr, DestinationRule.Subset subset, boolean mtlsAllowed) {
    MeshService s = sv.service();
    String subsetName = subset == null ? "" : subset.name();
    String name = ClusterName.outbound(port.number(), subsetName, s.hostname()).toString();
    // A passthrough cluster carries the client's own TLS, whatever the DestinationRule asks for.
    String refusal = mtlsAllowed ? UpstreamTls.refusal(view, dr, port.number(), subsetName) : null;
    if (refusal != null) {
      view.drop(name, refusal);
      return null;
    }
    DestinationRule.LoadBalancer lb = TrafficPolicies.pick(dr, port.number(), subsetName,
        DestinationRule.TrafficPolicy::loadBalancer);
    // loadBalancer PASSTHROUGH turns any cluster into an original-destination one (Istio's applyLoadBalancer).
    if (lb != null && "PASSTHROUGH".equals(lb.simple())) type = Cluster.DiscoveryType.ORIGINAL_DST;
    Cluster.Builder c = Cluster.newBuilder().setName(name).setType(type)
        .setConnectTimeout(Protos.duration(WellKnown.CONNECT_TIMEOUT))
        .setCommonLbConfig(Cluster.CommonLbConfig.getDefaultInstance());
    switch (type) {
      case EDS -> c.setEdsClusterConfig(Cluster.EdsClusterConfig.newBuilder()
          .setEdsConfig(Protos.ads()).setServiceName(name));
      case STRICT_DNS, LOGICAL_DNS -> {
        ClusterLoadAssignment cla = dnsAssignment(view, sv, port, subset, type, name);
        if (cla == null) return null;
        c.setLoadAssignment(cla)
            .setDnsLookupFamily(Cluster.DnsLookupFamily.V4_ONLY)
            .setRespectDnsTtl(true)
            .setDnsRefreshRate(Protos.duration(WellKnown.DNS_REFRESH_RATE));
      }
      default -> { }
    }
    ClusterPolicies.apply(c, dr, port, subsetName, lb);
    if (mtlsAllowed) {
      UpstreamTls.Mtls mtls = UpstreamTls.decide(view, sv, port.number(), subsetName, dr, name);
      if (mtls != null) {
        String sni = mtls.sni().isEmpty() ? sni(port.number(), subsetName, s.hostname()) : mtls.sni();
        c.setTransportSocket(TlsContexts.transportSocket(
            TlsContexts.sidecarClient(mtls.subjectAltNames(), sni, Protocols.isHttp2(port.protocol()))));
      }
    }
    return c.build();
  }

  /** Istio's SNI for in-mesh mTLS, which east-west gateways route by. */
  static String sni(int port, String subset, String host) {
    return "outbound_." + port + "_." + subset + "_." + host;
  }

  /**
   * Inline endpoints of a DNS cluster. A DNS ServiceEntry without endpoints resolves its own host
   * (Istio's ServiceEntry conversion does the same); Istio leaves a DNS cluster without endpoints out.
   */
  private static ClusterLoadAssignment dnsAssignment(ProxyView view, ServiceView sv, MeshService.Port port,
      DestinationRule.Subset subset, Cluster.DiscoveryType type, String name) {
    MeshService s = sv.service();
    List<WorkloadEndpoint> endpoints = new ArrayList<>(LoadAssignments.select(sv, port.number(), subset,
        view.clusterLocal(s.hostname()) ? view.proxy().clusterId() : null));
    if (endpoints.isEmpty() && sv.endpoints().isEmpty() && subset == null && !s.hostname().startsWith("*")) {
      endpoints.add(new WorkloadEndpoint(s.hostname(), port.number(), port.number(), Map.of(), "", "",
          Locality.UNKNOWN, "", WorkloadEndpoint.Health.HEALTHY, 0, ""));
    }
    int sockets = endpoints.size();
    // Envoy resolves every host of a DNS cluster; a pipe address there would make it reject the cluster.
    endpoints.removeIf(e -> e.unixSocketPath() != null);
    sockets -= endpoints.size();
    if (sockets > 0) {
      view.drop(name, sockets + " unix:// endpoint(s) left out: a " + type + " cluster takes host names and IP "
          + "addresses only; use resolution STATIC for unix sockets");
    }
    if (endpoints.isEmpty()) {
      view.drop(name, type + " cluster without endpoints left out");
      return null;
    }
    if (type == Cluster.DiscoveryType.LOGICAL_DNS && endpoints.size() > 1) {
      // Envoy accepts exactly one host in a LOGICAL_DNS cluster.
      view.drop(name, "DNS_ROUND_ROBIN takes one endpoint; " + (endpoints.size() - 1) + " more left out");
      endpoints = List.of(endpoints.get(0));
    }
    return LoadAssignments.build(name, endpoints);
  }
}
