package weft.xds.envoygen;

import io.envoyproxy.envoy.config.core.v3.TrafficDirection;
import io.envoyproxy.envoy.config.listener.v3.Filter;
import io.envoyproxy.envoy.config.listener.v3.FilterChain;
import io.envoyproxy.envoy.config.listener.v3.FilterChainMatch;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;
import weft.model.DestinationRule;
import weft.model.Gateway;
import weft.model.VirtualService;
import weft.registry.MeshService;
import weft.registry.ServiceView;
import weft.xds.ClusterName;
import weft.xds.security.Rbac;
import weft.xds.view.Hosts;
import weft.xds.view.ProxyView;
import weft.xds.envoygen.GatewayServers.Entry;
import weft.xds.envoygen.GatewayServers.Kind;

/**
 * A router's listeners (Istio's gateway.go): one bound listener per server port, holding an HCM for
 * plain HTTP, a TLS filter chain per HTTPS server, tcp_proxy chains for TCP servers, and SNI chains
 * to every mesh service for AUTO_PASSTHROUGH (the east-west gateway).
 */
final class GatewayListeners {
  /** Stands for a chain that matches no particular server name (so any, and none), in duplicate checks. */
  private static final String ANY_NAME = "";

  private GatewayListeners() {}

  static SortedMap<String, Listener> all(ProxyView view) {
    SortedMap<String, Listener> out = new TreeMap<>();
    Map<String, List<Entry>> servers = GatewayServers.byListener(view);
    if (servers.isEmpty()) return out;
    // The gateway's pods are a workload: its RequestAuthentications and AuthorizationPolicies (by
    // selector, or attached to its Gateway API Gateway) run on its HTTP servers and TCP/TLS chains.
    Auth auth = new Auth(Inbound.httpFilters(view), Rbac.forWorkload(view, Rbac.Target.TCP).networkFilters());
    for (Map.Entry<String, List<Entry>> l : servers.entrySet()) {
      List<FilterChain> chains = new ArrayList<>();
      // Envoy rejects a listener in which two chains match the same server name (or both match any
      // name) under otherwise equal conditions; the first chain keeps the name, as in Istio.
      Set<String> seen = new HashSet<>();
      boolean httpDone = false;
      for (Entry e : l.getValue()) {
        if (e.kind() == Kind.HTTP) {
          if (!httpDone) {
            chains.add(FilterChain.newBuilder()
                .addFilters(ConnectionManagers.rds("outbound_" + e.listenerName(), e.routeName(), true, false,
                    auth.http()))
                .build());
            httpDone = true;
          }
          continue;
        }
        List<FilterChain> mine = chains(view, e, auth);
        for (FilterChain c : mine) {
          List<String> names = c.getFilterChainMatch().getServerNamesCount() == 0 ? List.of(ANY_NAME)
              : c.getFilterChainMatch().getServerNamesList();
          List<String> taken = names.stream().filter(seen::contains).toList();
          if (taken.isEmpty()) {
            seen.addAll(names);
            chains.add(c);
          } else {
            view.drop(e.subject(), "another chain on listener " + e.listenerName() + " already matches "
                + (taken.equals(List.of(ANY_NAME)) ? "any server name" : "server names " + taken) + "; chain skipped");
          }
        }
      }
      if (chains.isEmpty()) {
        view.drop("listener " + l.getKey(), "no server on this port produced a filter chain; listener left out");
        continue;
      }
      Entry first = l.getValue().get(0);
      Listener.Builder listener = Listener.newBuilder()
          .setName(l.getKey())
          .setAddress(Protos.address(first.bind(), first.listenerPort()))
          .setTrafficDirection(TrafficDirection.OUTBOUND)
          // A gateway always needs what its listener filters find; wait for it as long as it takes.
          .setListenerFiltersTimeout(Protos.ZERO)
          .setContinueOnListenerFiltersTimeout(false)
          .addAllFilterChains(chains);
      // Istio adds the inspector whenever a chain was built from SNI hosts, "*" (no names) included.
      boolean passthrough = l.getValue().stream().anyMatch(e -> e.kind() == Kind.PASSTHROUGH);
      if (passthrough
          || chains.stream().anyMatch(c -> c.getFilterChainMatch().getServerNamesCount() > 0 || c.hasTransportSocket())) {
        listener.addListenerFilters(Protos.listenerFilter(WellKnown.TLS_INSPECTOR, TlsInspector.getDefaultInstance()));
      }
      out.put(l.getKey(), listener.build());
    }
    return out;
  }

  /** The workload's filters for HTTP servers and for TCP and TLS chains. */
  private record Auth(List<io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter> http,
      List<Filter> tcp) {}

  private static List<FilterChain> chains(ProxyView view, Entry e, Auth auth) {
    Gateway.Server s = e.server();
    return switch (e.kind()) {
      case HTTPS -> {
        if (!certificateGiven(view, e)) yield List.of();
        FilterChain.Builder c = FilterChain.newBuilder()
            .setFilterChainMatch(sni(GatewayServers.sniHosts(s)))
            .setTransportSocket(GatewayTls.downstream(s.tls(), e.tlsMode()))
            .addFilters(ConnectionManagers.rds(s.name() != null && !s.name().isEmpty() ? s.name()
                : "outbound_" + e.listenerName(), e.routeName(), true, false, auth.http()));
        yield List.of(c.build());
      }
      case TCP -> {
        if (e.tlsMode() != null && !certificateGiven(view, e)) yield List.of();
        Filter proxy = tcpFromVirtualServices(view, e);
        if (proxy == null) {
          view.drop(e.subject(), "no VirtualService bound to " + e.gatewayKey() + " has a tcp route for "
              + s.hosts() + " on port " + s.port().number());
          yield List.of();
        }
        FilterChain.Builder c = FilterChain.newBuilder().addAllFilters(auth.tcp()).addFilters(proxy);
        if (e.tlsMode() != null) {
          c.setFilterChainMatch(sni(GatewayServers.sniHosts(s))).setTransportSocket(GatewayTls.downstream(s.tls(), e.tlsMode()));
        }
        yield List.of(c.build());
      }
      case PASSTHROUGH -> passthrough(view, e, auth.tcp());
      case AUTO_PASSTHROUGH -> autoPassthrough(view, e);
      case HTTP -> List.of();
    };
  }

  private static boolean certificateGiven(ProxyView view, Entry e) {
    // ISTIO_MUTUAL: the gateway's own workload certificate, which its agent serves by SDS.
    if ("ISTIO_MUTUAL".equals(e.tlsMode())) return true;
    Gateway.Tls tls = e.server().tls();
    boolean credential = tls.credentialName() != null && !tls.credentialName().isEmpty();
    boolean files = tls.serverCertificate() != null && tls.privateKey() != null;
    boolean ca = !"MUTUAL".equals(e.tlsMode()) || credential || tls.caCertificates() != null;
    if ((credential || files) && ca) return true;
    view.drop(e.subject(), "tls mode " + e.tlsMode() + " needs credentialName, or serverCertificate and privateKey"
        + ("MUTUAL".equals(e.tlsMode()) ? " and caCertificates" : ""));
    return false;
  }

  private static FilterChainMatch sni(List<String> hosts) {
    return hosts.isEmpty() ? FilterChainMatch.getDefaultInstance()
        : FilterChainMatch.newBuilder().addAllServerNames(hosts).build();
  }

  /**
   * Istio's buildGatewayNetworkFiltersFromTCPRoutes: the first tcp route, of the VirtualServices bound
   * to this gateway whose hosts meet the server's, that matches the server port.
   */
  private static Filter tcpFromVirtualServices(ProxyView view, Entry e) {
    int port = e.server().port().number();
    for (VirtualService vs : view.virtualServicesForGateway(e.gatewayKey())) {
      if (GatewayHosts.intersect(GatewayServers.hostsFor(e, vs.id().namespace()), GatewayHosts.resolved(vs)).isEmpty()) {
        continue;
      }
      for (int i = 0; i < vs.tcp().size(); i++) {
        VirtualService.TcpRoute tcp = vs.tcp().get(i);
        if (tcp.route().isEmpty()) continue;
        boolean applies = tcp.match().isEmpty() || tcp.match().stream().anyMatch(m -> (m.port() == 0 || m.port() == port)
            && HttpRoutes.forGateway(m.gateways(), vs.id().namespace(), e.gatewayKey()));
        if (!applies) continue;
        Filter f = TcpRoutes.tcpProxy(view, vs, tcp.route(), port, vs.id() + " tcp[" + i + "]");
        if (f != null) return f;
      }
    }
    return null;
  }

  /**
   * Istio's buildGatewayNetworkFiltersFromTLSRoutes: for each VirtualService bound to the server's
   * gateway whose hosts meet the server's, each tls route match that holds for this server (its
   * {@code port} unset or the server's port, its {@code gateways} unset or naming this gateway) is a
   * chain matching the match's SNI names (any name when one is {@code *}) with a tcp_proxy to the
   * route's clusters, weighted when there are several. No TLS context: the bytes pass through.
   */
  private static List<FilterChain> passthrough(ProxyView view, Entry e, List<Filter> auth) {
    int port = e.server().port().number();
    List<FilterChain> out = new ArrayList<>();
    for (VirtualService vs : view.virtualServicesForGateway(e.gatewayKey())) {
      if (GatewayHosts.intersect(GatewayServers.hostsFor(e, vs.id().namespace()), GatewayHosts.resolved(vs)).isEmpty()) {
        continue;
      }
      for (int i = 0; i < vs.tls().size(); i++) {
        VirtualService.TlsRoute tls = vs.tls().get(i);
        if (tls.route().isEmpty()) continue;
        Filter proxy = null;
        for (int j = 0; j < tls.match().size(); j++) {
          VirtualService.TlsMatch m = tls.match().get(j);
          if (m.port() != 0 && m.port() != port) continue;
          if (!m.gateways().isEmpty() && m.gateways().stream()
              .noneMatch(g -> weft.xds.view.Hosts.gatewayKey(g, vs.id().namespace()).equals(e.gatewayKey()))) {
            continue;
          }
          if (proxy == null) proxy = TcpRoutes.tcpProxy(view, vs, tls.route(), port, vs.id() + " tls[" + i + "]");
          if (proxy == null) break;
          List<String> names = sniNames(m.sniHosts());
          FilterChain.Builder chain = FilterChain.newBuilder().addAllFilters(auth).addFilters(proxy);
          // Any name: no match at all, as Istio leaves it (Envoy then also takes connections without SNI).
          if (!names.isEmpty()) chain.setFilterChainMatch(sni(names));
          out.add(chain.build());
        }
      }
    }
    if (out.isEmpty()) {
      view.drop(e.subject(), "no VirtualService bound to " + e.gatewayKey() + " has a tls route matching "
          + e.server().hosts() + " on port " + port + "; a PASSTHROUGH server needs spec.tls routes");
    }
    return out;
  }

  /** SNI names of a tls match, sorted; none (any name) when one is {@code *}, as Istio builds them. */
  private static List<String> sniNames(List<String> sniHosts) {
    java.util.TreeSet<String> out = new java.util.TreeSet<>();
    for (String h : sniHosts) {
      if (h.equals("*")) return List.of();
      out.add(h.toLowerCase(java.util.Locale.ROOT));
    }
    return List.copyOf(out);
  }

  /**
   * Istio's builtAutoPassthroughFilterChains: a chain per visible in-mesh service port, and per
   * subset, matched on the SNI a sidecar in another network sets ({@code outbound_.PORT_.SUBSET_.HOST}).
   * Istio also requires Istio's mTLS ALPN here; Weft leaves ALPN open so proxyless gRPC clients
   * (ALPN h2) can use the same gateway.
   */
  private static List<FilterChain> autoPassthrough(ProxyView view, Entry e) {
    List<FilterChain> out = new ArrayList<>();
    for (ServiceView sv : Visible.services(view)) {
      MeshService s = sv.service();
      if (s.meshExternal() || !served(e, s)) continue;
      DestinationRule dr = view.destinationRule(s.hostname());
      for (MeshService.Port p : s.ports()) {
        if (Protocols.isUdp(p.protocol())) continue;
        out.add(sniChain(p.number(), "", s.hostname()));
        if (dr == null) continue;
        for (DestinationRule.Subset subset : dr.subsets()) out.add(sniChain(p.number(), subset.name(), s.hostname()));
      }
    }
    if (out.isEmpty()) view.drop(e.subject(), "AUTO_PASSTHROUGH server hosts " + e.server().hosts() + " match no visible service");
    return out;
  }

  /**
   * Hosts this router forwards by SNI for AUTO_PASSTHROUGH servers: their clusters must not add TLS
   * of their own, since the connection already carries the client's mTLS to the workload.
   */
  static java.util.Set<String> autoPassthroughHosts(ProxyView view) {
    java.util.Set<String> out = new java.util.TreeSet<>();
    List<Entry> passthrough = GatewayServers.all(view).stream().filter(e -> e.kind() == Kind.AUTO_PASSTHROUGH).toList();
    if (passthrough.isEmpty()) return out;
    for (String host : view.snapshot().services().keySet()) {
      MeshService s = view.snapshot().service(host).service();
      if (s.meshExternal()) continue;
      for (Entry e : passthrough) {
        if (served(e, s)) out.add(host);
      }
    }
    return out;
  }

  private static boolean served(Entry e, MeshService s) {
    for (String h : GatewayServers.hostsFor(e, s.namespace())) {
      if (Hosts.matches(h, s.hostname())) return true;
    }
    return false;
  }

  private static FilterChain sniChain(int port, String subset, String host) {
    String sni = OutboundClusters.sni(port, subset, host);
    FilterChainMatch.Builder match = FilterChainMatch.newBuilder().addServerNames(sni);
    // Proxyless gRPC clients send the DNS-valid alias of the same name (see ClusterName#sniAlias).
    String alias = ClusterName.outbound(port, subset, host).sniAlias();
    if (alias != null) match.addServerNames(alias);
    return FilterChain.newBuilder()
        .setFilterChainMatch(match)
        .addFilters(Protos.tcpProxy(ClusterName.outbound(port, subset, host).toString()))
        .build();
  }
}
