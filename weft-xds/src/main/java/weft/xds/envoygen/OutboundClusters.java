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
import java.util.function.BiConsumer;
import weft.model.ResourceId;
import weft.xds.view.ProxyView;
import weft.xds.view.PushContext;

/**
 * Clusters {@code outbound|PORT||HOST} and {@code outbound|PORT|SUBSET|HOST} for one service, as
 * Istio's cluster.go builds them: the discovery type follows the service's resolution, and the
 * DestinationRule's policy is applied per port and subset. Istio mTLS (DestinationRule ISTIO_MUTUAL
 * or auto mTLS, see {@link UpstreamTls}) uses the SDS secrets of the proxy's agent, SNI
 * {@code outbound_.PORT_.SUBSET_.HOST} and the service's SPIFFE identities as SANs.
 */
final class OutboundClusters {
  private OutboundClusters() {}

  /**
   * Everything a service's outbound clusters depend on besides the snapshot: the DestinationRule
   * in force for the proxy (its id; the rule's own content is the snapshot's), the proxy type,
   * whether mTLS may be added (not on an AUTO_PASSTHROUGH router), and the cluster a cluster-local
   * host is kept to. The destination's SANs, PeerAuthentications and trust domain are the
   * snapshot's, the same for every proxy.
   */
  record Key(String host, boolean router, boolean mtlsAllowed, ResourceId destinationRule, String onlyCluster,
      boolean servedSecrets) {}

  /**
   * The key of a service's clusters for this proxy. {@code servedSecrets} only matters (and is only
   * set) when the rule names a credentialName, so other clusters stay shared by every proxy.
   */
  static Key key(ProxyView view, ServiceView sv, boolean router, boolean mtlsAllowed) {
    String host = sv.service().hostname();
    DestinationRule dr = view.destinationRule(host);
    return new Key(host, router, mtlsAllowed, dr == null ? null : dr.id(),
        view.clusterLocal(host) ? view.proxy().clusterId() : null,
        view.proxy().servedSecrets() && UpstreamTls.namesCredential(dr));
  }

  /** A service's clusters, from its key alone; what is left out is told to {@code drop}. */
  static Map<String, Cluster> of(PushContext context, ServiceView sv, Key key, BiConsumer<String, String> drop) {
    Map<String, Cluster> out = new java.util.TreeMap<>();
    MeshService s = sv.service();
    Cluster.DiscoveryType type = discoveryType(s, key.router());
    DestinationRule dr = context.destinationRule(key.destinationRule());
    Inputs in = new Inputs(context, sv, key, dr, drop);
    for (MeshService.Port p : s.ports()) {
      if (Protocols.isUdp(p.protocol())) continue;
      put(out, build(in, p, type, null));
      if (dr == null) continue;
      for (DestinationRule.Subset subset : dr.subsets()) put(out, build(in, p, type, subset));
    }
    return out;
  }

  private record Inputs(PushContext context, ServiceView sv, Key key, DestinationRule dr,
      BiConsumer<String, String> drop) {}

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

  private static Cluster build(Inputs in, MeshService.Port port, Cluster.DiscoveryType type,
      DestinationRule.Subset subset) {
    ServiceView sv = in.sv();
    DestinationRule dr = in.dr();
    boolean mtlsAllowed = in.key().mtlsAllowed();
    MeshService s = sv.service();
    String subsetName = subset == null ? "" : subset.name();
    String name = ClusterName.outbound(port.number(), subsetName, s.hostname()).toString();
    // A passthrough cluster carries the client's own TLS, whatever the DestinationRule asks for.
    String refusal = mtlsAllowed ? UpstreamTls.refusal(false, in.key().servedSecrets(), dr, port.number(), subsetName)
        : null;
    if (refusal != null) {
      in.drop().accept(name, refusal);
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
        ClusterLoadAssignment cla = dnsAssignment(in, port, subset, type, name);
        if (cla == null) return null;
        c.setLoadAssignment(cla)
            .setDnsLookupFamily(Cluster.DnsLookupFamily.V4_ONLY)
            .setRespectDnsTtl(true)
            .setDnsRefreshRate(Protos.duration(WellKnown.DNS_REFRESH_RATE));
      }
      default -> { }
    }
    ClusterPolicies.apply(c, dr, port, subsetName, lb);
    DestinationRule.Tls origination = mtlsAllowed ? UpstreamTls.origination(dr, port.number(), subsetName) : null;
    if (origination != null) {
      c.setTransportSocket(TlsContexts.transportSocket(TlsContexts.envoyOrigination(origination,
          originationSni(origination, s.hostname()), Protocols.isHttp2(port.protocol()))));
    } else if (mtlsAllowed) {
      UpstreamTls.Mtls mtls = UpstreamTls.decide(in.context().snapshot().meshConfig(), in.context().securityPolicies(),
          in.drop(), sv, port.number(), subsetName, dr, name);
      if (mtls != null) {
        String sni = mtls.sni().isEmpty() ? sni(port.number(), subsetName, s.hostname()) : mtls.sni();
        c.setTransportSocket(TlsContexts.transportSocket(
            TlsContexts.sidecarClient(mtls.subjectAltNames(), sni, Protocols.isHttp2(port.protocol()),
                in.context().trustBundles())));
      }
    }
    return c.build();
  }

  /**
   * The server name a SIMPLE or MUTUAL origination sends: the rule's {@code sni}, else the host
   * (Istio's Envoy derives it from the request's Host with auto SNI, which is the same name for the
   * egress tasks' routes; a TCP connection has no Host, so Weft names the host for every protocol).
   * A wildcard host names no one server, so none is sent.
   */
  static String originationSni(DestinationRule.Tls tls, String host) {
    if (tls.sni() != null && !tls.sni().isEmpty()) return tls.sni();
    return host.startsWith("*") ? "" : host;
  }

  /** The ServiceEntry port's {@code targetPort} (where a self-resolving DNS entry is dialled), else the port. */
  static int targetPort(MeshService s, int port) {
    if (s.serviceEntry() != null) {
      for (weft.model.ServiceEntry.Port p : s.serviceEntry().ports()) {
        if (p.number() == port && p.targetPort() > 0) return p.targetPort();
      }
    }
    return port;
  }

  /** Istio's SNI for in-mesh mTLS, which east-west gateways route by. */
  static String sni(int port, String subset, String host) {
    return "outbound_." + port + "_." + subset + "_." + host;
  }

  /**
   * Inline endpoints of a DNS cluster. A DNS ServiceEntry without endpoints resolves its own host
   * (Istio's ServiceEntry conversion does the same); Istio leaves a DNS cluster without endpoints out.
   */
  private static ClusterLoadAssignment dnsAssignment(Inputs in, MeshService.Port port,
      DestinationRule.Subset subset, Cluster.DiscoveryType type, String name) {
    ServiceView sv = in.sv();
    MeshService s = sv.service();
    List<WorkloadEndpoint> endpoints = new ArrayList<>(LoadAssignments.select(sv, port.number(), subset,
        in.key().onlyCluster()));
    if (endpoints.isEmpty() && sv.endpoints().isEmpty() && subset == null && !s.hostname().startsWith("*")) {
      endpoints.add(new WorkloadEndpoint(s.hostname(), port.number(), targetPort(s, port.number()), Map.of(), "", "",
          Locality.UNKNOWN, "", WorkloadEndpoint.Health.HEALTHY, 0, ""));
    }
    int sockets = endpoints.size();
    // Envoy resolves every host of a DNS cluster; a pipe address there would make it reject the cluster.
    endpoints.removeIf(e -> e.unixSocketPath() != null);
    sockets -= endpoints.size();
    if (sockets > 0) {
      in.drop().accept(name, sockets + " unix:// endpoint(s) left out: a " + type + " cluster takes host names and IP "
          + "addresses only; use resolution STATIC for unix sockets");
    }
    if (endpoints.isEmpty()) {
      in.drop().accept(name, type + " cluster without endpoints left out");
      return null;
    }
    if (type == Cluster.DiscoveryType.LOGICAL_DNS && endpoints.size() > 1) {
      // Envoy accepts exactly one host in a LOGICAL_DNS cluster.
      in.drop().accept(name, "DNS_ROUND_ROBIN takes one endpoint; " + (endpoints.size() - 1) + " more left out");
      endpoints = List.of(endpoints.get(0));
    }
    return LoadAssignments.build(name, endpoints);
  }
}
