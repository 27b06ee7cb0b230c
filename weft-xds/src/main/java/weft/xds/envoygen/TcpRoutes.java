package weft.xds.envoygen;

import io.envoyproxy.envoy.config.core.v3.CidrRange;
import io.envoyproxy.envoy.config.listener.v3.Filter;
import io.envoyproxy.envoy.config.listener.v3.FilterChain;
import io.envoyproxy.envoy.config.listener.v3.FilterChainMatch;
import io.envoyproxy.envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy;
import io.envoyproxy.envoy.type.v3.HashPolicy;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import weft.model.DestinationRule;
import weft.model.Labels;
import weft.model.VirtualService;
import weft.model.VirtualService.RouteDestination;
import weft.model.VirtualService.TcpMatch;
import weft.model.VirtualService.TcpRoute;
import weft.registry.ServiceView;
import weft.xds.ClusterName;
import weft.xds.view.Hosts;
import weft.xds.view.ProxyView;

/** VirtualService TCP routes to tcp_proxy filters, as Istio's networkfilter.go builds them. */
final class TcpRoutes {
  private TcpRoutes() {}

  /**
   * Filter chains of a sidecar's {@code VIP_PORT} listener: one per applicable match of the host's
   * VirtualService, then the plain route to the service unless a route already matches everything.
   */
  static List<FilterChain> sidecarChains(ProxyView view, String host, int port) {
    List<FilterChain> chains = new ArrayList<>();
    Set<List<CidrRange>> seen = new HashSet<>();
    VirtualService vs = view.virtualService(host);
    if (vs != null) {
      for (int i = 0; i < vs.tcp().size(); i++) {
        TcpRoute tcp = vs.tcp().get(i);
        if (tcp.route().isEmpty()) continue;
        List<List<CidrRange>> matches = new ArrayList<>();
        if (tcp.match().isEmpty()) matches.add(List.of());
        for (TcpMatch m : tcp.match()) {
          if (m.port() != 0 && m.port() != port) continue;
          if (!HttpRoutes.forGateway(m.gateways(), vs.id().namespace(), MESH)) continue;
          if (!Labels.matches(m.sourceLabels(), view.proxy().labels())) continue;
          List<CidrRange> ranges = new ArrayList<>();
          for (String subnet : m.destinationSubnets()) {
            CidrRange r = weft.xds.security.Matchers.cidr(subnet);
            if (r != null) ranges.add(r);
          }
          matches.add(ranges);
        }
        Filter proxy = tcpProxy(view, vs, tcp.route(), port, vs.id() + " tcp[" + i + "]");
        if (proxy == null) continue;
        for (List<CidrRange> ranges : matches) {
          // Envoy rejects a listener whose chains repeat a match; the first route wins, as it would in order.
          if (!seen.add(ranges)) continue;
          FilterChain.Builder chain = FilterChain.newBuilder().addFilters(proxy);
          if (!ranges.isEmpty()) chain.setFilterChainMatch(FilterChainMatch.newBuilder().addAllPrefixRanges(ranges));
          chains.add(chain.build());
          if (ranges.isEmpty()) return chains;
        }
      }
    }
    Filter tls = meshTlsRoute(view, host, port);
    chains.add(FilterChain.newBuilder()
        .addFilters(tls != null ? tls : Protos.tcpProxy(ClusterName.outbound(port, "", host).toString()))
        .build());
    return chains;
  }

  /** The mesh gateway's name in VirtualService {@code gateways} and match {@code gateways}. */
  static final String MESH = "mesh";

  /**
   * The tcp_proxy of the first VirtualService {@code tls} route that holds for a sidecar connecting
   * to {@code host:port} (Istio's sidecar TLS routing, as in its egress-gateway tasks, where the
   * mesh's route sends the connection to the egress gateway): a match whose {@code gateways} are
   * unset or name {@code mesh}, whose port is unset or this one, whose {@code sniHosts} cover the
   * host and whose source labels hold. Null when no route holds.
   */
  static Filter meshTlsRoute(ProxyView view, String host, int port) {
    VirtualService vs = view.virtualService(host);
    if (vs == null) return null;
    for (int i = 0; i < vs.tls().size(); i++) {
      VirtualService.TlsRoute route = vs.tls().get(i);
      for (VirtualService.TlsMatch m : route.match()) {
        if (m.port() != 0 && m.port() != port) continue;
        if (!HttpRoutes.forGateway(m.gateways(), vs.id().namespace(), MESH)) continue;
        if (!Labels.matches(m.sourceLabels(), view.proxy().labels())) continue;
        boolean covers = false;
        for (String sni : m.sniHosts()) {
          if (sni.equals("*") || Hosts.matches(Hosts.resolve(sni, vs.id().namespace()), host)) covers = true;
        }
        if (!covers) continue;
        return tcpProxy(view, vs, route.route(), port, vs.id() + " tls[" + i + "]");
      }
    }
    return null;
  }

  /**
   * A tcp_proxy for a route's destinations: a single cluster (stat prefix = cluster, as Istio), or
   * weighted clusters (stat prefix {@code NAME.NAMESPACE} of the VirtualService). Null when every
   * destination has weight 0.
   */
  static Filter tcpProxy(ProxyView view, VirtualService vs, List<RouteDestination> route, int port, String where) {
    List<RouteDestination> dests = new ArrayList<>();
    for (RouteDestination d : route) {
      if (d.weight() > 0 || route.size() == 1) dests.add(d);
    }
    if (dests.isEmpty()) {
      view.drop(where, "every destination has weight 0; route skipped");
      return null;
    }
    String ns = vs.id().namespace();
    TcpProxy.Builder proxy = TcpProxy.newBuilder();
    if (dests.size() == 1) {
      String cluster = cluster(view, dests.get(0), ns, port);
      proxy.setStatPrefix(cluster).setCluster(cluster);
    } else {
      TcpProxy.WeightedCluster.Builder wc = TcpProxy.WeightedCluster.newBuilder();
      for (RouteDestination d : dests) {
        wc.addClusters(TcpProxy.WeightedCluster.ClusterWeight.newBuilder()
            .setName(cluster(view, d, ns, port)).setWeight(d.weight()));
      }
      proxy.setStatPrefix(vs.id().name() + "." + ns).setWeightedClusters(wc);
    }
    // A source-IP consistent hash is the only one a TCP proxy can honour (Istio's maybeSetHashPolicy).
    RouteDestination first = dests.get(0);
    String firstHost = Hosts.resolve(first.destination().host(), ns);
    DestinationRule.LoadBalancer lb = TrafficPolicies.pick(view.destinationRule(firstHost), 0,
        dests.size() == 1 ? first.destination().subset() : "", DestinationRule.TrafficPolicy::loadBalancer);
    if (lb != null && lb.consistentHash() != null && lb.consistentHash().useSourceIp()) {
      proxy.addHashPolicy(HashPolicy.newBuilder().setSourceIp(HashPolicy.SourceIp.getDefaultInstance()));
    }
    return Protos.filter(WellKnown.TCP_PROXY, proxy.build());
  }

  /** Istio's GetDestinationCluster for TCP: the named port, else the destination's only port, else the listener's. */
  private static String cluster(ProxyView view, RouteDestination d, String ns, int port) {
    String host = Hosts.resolve(d.destination().host(), ns);
    int p = d.destination().port();
    if (p == 0) {
      ServiceView s = view.snapshot().service(host);
      p = s != null && s.service().ports().size() == 1 ? s.service().ports().get(0).number() : port;
    }
    return ClusterName.outbound(p, d.destination().subset(), host).toString();
  }
}
