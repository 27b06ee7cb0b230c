package weft.xds.envoygen;

import com.google.protobuf.BoolValue;
import com.google.protobuf.UInt32Value;
import io.envoyproxy.envoy.config.core.v3.TrafficDirection;
import io.envoyproxy.envoy.config.listener.v3.FilterChain;
import io.envoyproxy.envoy.config.listener.v3.FilterChainMatch;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.listener.v3.ListenerFilter;
import io.envoyproxy.envoy.config.listener.v3.ListenerFilterChainMatchPredicate;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.config.route.v3.VirtualHost;
import io.envoyproxy.envoy.extensions.filters.listener.http_inspector.v3.HttpInspector;
import io.envoyproxy.envoy.extensions.filters.listener.original_dst.v3.OriginalDst;
import io.envoyproxy.envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector;
import io.envoyproxy.envoy.type.v3.Int32Range;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import weft.security.trust.TrustBundles;
import java.util.Map;
import java.util.TreeMap;
import weft.model.Sidecar;
import weft.registry.MeshService;
import weft.registry.MeshSnapshot.WorkloadAt;
import weft.xds.proxy.Proxy;
import weft.xds.security.MtlsMode;
import weft.xds.security.Rbac;
import weft.xds.security.ServerMtls;
import weft.xds.security.TlsContexts;
import weft.xds.view.ProxyView;

/**
 * The sidecar's inbound side (Istio's listener_inbound.go): the {@code virtualInbound} listener on
 * 15006 that iptables redirects incoming traffic to, with one filter chain per port the proxy's own
 * workload serves, matched on the original destination port. Each port follows the workload's
 * PeerAuthentication: STRICT terminates mTLS (SDS {@code default} and {@code ROOTCA}), DISABLE is
 * plaintext, PERMISSIVE has a plaintext chain and an mTLS chain told apart by the TLS inspector.
 * The workload's AuthorizationPolicies become RBAC filters on every chain: HTTP RBAC in connection
 * managers (after the RequestAuthentications' {@code jwt_authn}), network RBAC before TCP proxies.
 */
final class Inbound {
  private Inbound() {}

  /**
   * One port the workload serves: Istio keys inbound chains and clusters by the target port.
   * {@code ingress} is the Sidecar ingress listener that declares it, null for a service's port.
   */
  record Port(int number, String protocol, String host, Sidecar.Ingress ingress) {
    Port(int number, String protocol, String host) {
      this(number, protocol, host, null);
    }

    String cluster() {
      return "inbound|" + number + "||";
    }

    /** Istio's captureMode NONE: a listener of its own that binds the port, outside virtualInbound. */
    boolean bindsToPort() {
      return ingress != null && ingress.bindsToPort();
    }

    boolean http() {
      return Protocols.isHttp(protocol);
    }
  }

  /**
   * The ports of the proxy's own workload, by target port. When two services claim one port with
   * different protocols, the first by hostname wins (Istio keeps the oldest; we have no age) and the
   * conflict is recorded.
   */
  static List<Port> ports(ProxyView view) {
    Proxy proxy = view.proxy();
    Sidecar sidecar = view.sidecar();
    if (sidecar != null && !sidecar.ingress().isEmpty()) {
      // Istio: a Sidecar with ingress listeners declares the inbound ports; the services' ports are not used.
      String host = sidecar.id().name() + "." + sidecar.id().namespace();
      List<Port> declared = new ArrayList<>();
      for (Sidecar.Ingress i : sidecar.ingress()) {
        declared.add(new Port(i.port(), i.protocol() == null ? "TCP" : i.protocol(), host, i));
      }
      declared.sort(Comparator.comparingInt(Port::number));
      return List.copyOf(declared);
    }
    if (proxy.ip() == null || proxy.ip().isEmpty()) return List.of();
    List<WorkloadAt> own = new ArrayList<>(view.snapshot().endpointsAt(proxy.clusterId(), proxy.ip()));
    own.sort(Comparator.comparing((WorkloadAt w) -> w.service().service().hostname())
        .thenComparingInt(w -> w.endpoint().servicePort()));
    Map<Integer, Port> byPort = new TreeMap<>();
    for (WorkloadAt w : own) {
      MeshService s = w.service().service();
      String protocol = s.port(w.endpoint().servicePort()).map(MeshService.Port::protocol).orElse("TCP");
      if (Protocols.isUdp(protocol)) continue;
      Port p = new Port(w.endpoint().port(), protocol, s.hostname());
      Port old = byPort.putIfAbsent(p.number(), p);
      if (old != null && !old.host().equals(p.host()) && Protocols.isHttp(old.protocol()) != p.http()) {
        view.drop("inbound port " + p.number() + " of " + p.host(), "port already served as "
            + Protocols.normalize(old.protocol()) + " for " + old.host() + "; this service's " + Protocols.normalize(protocol)
            + " is ignored on it");
      }
    }
    return List.copyOf(byPort.values());
  }

  /**
   * A workload's HTTP authentication and authorization filters, in Istio's order: CUSTOM (ext_authz),
   * then RequestAuthentications' jwt_authn, then the AUDIT, DENY and ALLOW RBAC that read what it
   * verified. The sidecar's inbound chains and a gateway's HTTP servers both run them.
   */
  static List<io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter> httpFilters(
      ProxyView view) {
    List<io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter> http =
        new ArrayList<>();
    Rbac.Rules rules = Rbac.forWorkload(view, Rbac.Target.HTTP);
    http.addAll(rules.customHttpFilters());
    io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter jwt =
        weft.xds.authn.JwtAuthn.httpFilter(view);
    if (jwt != null) http.add(jwt);
    http.addAll(rules.policyHttpFilters());
    return http;
  }

  static Listener virtualInbound(ProxyView view) {
    List<Port> ports = ports(view);
    // RequestAuthentication's jwt_authn runs first: the RBAC after it reads the payloads it verified.
    List<io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter> http = httpFilters(view);
    Rbac.Rules tcp = Rbac.forWorkload(view, Rbac.Target.TCP);
    List<FilterChain> chains = new ArrayList<>();
    // Traffic addressed to 15006 itself would loop through this listener forever.
    chains.add(FilterChain.newBuilder()
        .setName(WellKnown.INBOUND_BLACKHOLE_CHAIN)
        .setFilterChainMatch(FilterChainMatch.newBuilder()
            .setDestinationPort(UInt32Value.of(WellKnown.INBOUND_CAPTURE_PORT)))
        .addFilters(Protos.tcpProxy(WellKnown.BLACK_HOLE_CLUSTER))
        .build());
    TrustBundles trust = view.context().trustBundles();
    if (ServerMtls.mode(view, -1) == MtlsMode.STRICT) {
      // Ports no service declares take mTLS only, like the declared ones: STRICT has no plaintext way in.
      chains.add(FilterChain.newBuilder()
          .setName(WellKnown.VIRTUAL_INBOUND)
          .setTransportSocket(TlsContexts.transportSocket(TlsContexts.sidecarServer(List.of(), trust)))
          .addAllFilters(tcp.networkFilters())
          .addFilters(Protos.tcpProxy(WellKnown.INBOUND_PASSTHROUGH_CLUSTER))
          .build());
    } else {
      // Ports no service declares still reach the workload: detected HTTP through an HCM, the rest as TCP.
      chains.add(FilterChain.newBuilder()
          .setName(WellKnown.INBOUND_CATCHALL_HTTP_CHAIN)
          .setFilterChainMatch(FilterChainMatch.newBuilder()
              .addAllApplicationProtocols(WellKnown.PLAINTEXT_HTTP_ALPNS)
              .setTransportProtocol(WellKnown.RAW_BUFFER))
          .addFilters(ConnectionManagers.inline(WellKnown.INBOUND_PASSTHROUGH_CLUSTER,
              routes(WellKnown.INBOUND_PASSTHROUGH_CLUSTER, 0), false, http))
          .build());
      chains.add(FilterChain.newBuilder()
          .setName(WellKnown.VIRTUAL_INBOUND)
          .setFilterChainMatch(FilterChainMatch.newBuilder().setTransportProtocol(WellKnown.RAW_BUFFER))
          .addAllFilters(tcp.networkFilters())
          .addFilters(Protos.tcpProxy(WellKnown.INBOUND_PASSTHROUGH_CLUSTER))
          .build());
    }
    List<Integer> sniffed = new ArrayList<>();
    for (Port p : ports) {
      if (p.bindsToPort()) continue; // served by a listener of its own (boundListeners)
      MtlsMode mode = ServerMtls.mode(view, p.number());
      String name = WellKnown.WILDCARD + "_" + p.number();
      FilterChainMatch.Builder match = FilterChainMatch.newBuilder().setDestinationPort(UInt32Value.of(p.number()));
      if (mode == MtlsMode.STRICT) {
        // No transport protocol: plaintext reaches this chain too and fails the handshake.
        chains.add(portChain(name, match, p, http, tcp, true, trust));
        continue;
      }
      chains.add(portChain(name, match.clone().setTransportProtocol(WellKnown.RAW_BUFFER), p, http, tcp, false, trust));
      if (mode == MtlsMode.PERMISSIVE) {
        // The TLS inspector tells the two apart. Istio also requires its own ALPN here; Weft does not,
        // so that proxyless gRPC clients (ALPN h2) reach a PERMISSIVE sidecar with mTLS too.
        chains.add(portChain(name + WellKnown.MTLS_CHAIN_SUFFIX, match.clone().setTransportProtocol(WellKnown.TLS),
            p, http, tcp, true, trust));
        sniffed.add(p.number());
      }
    }
    Listener.Builder listener = Listener.newBuilder()
        .setName(WellKnown.VIRTUAL_INBOUND)
        .setAddress(Protos.address(WellKnown.WILDCARD, WellKnown.INBOUND_CAPTURE_PORT))
        .setTrafficDirection(TrafficDirection.INBOUND)
        .setContinueOnListenerFiltersTimeout(true)
        // Istio's protocolDetectionTimeout default: wait for the client's first bytes as long as it takes.
        .setListenerFiltersTimeout(Protos.ZERO)
        .addListenerFilters(Protos.listenerFilter(WellKnown.ORIGINAL_DST, OriginalDst.getDefaultInstance()));
    if (!sniffed.isEmpty()) listener.addListenerFilters(tlsInspector(sniffed));
    return listener
        .addListenerFilters(httpInspector(ports))
        .addAllFilterChains(chains)
        .build();
  }

  /**
   * Istio's inbound listeners for Sidecar ingress ports with captureMode NONE: each binds
   * {@code BIND:PORT} itself (0.0.0.0 when no bind is given), named {@code BIND_PORT}, with the chains
   * the port would have in {@code virtualInbound} (the workload's PeerAuthentication and RBAC).
   */
  static java.util.SortedMap<String, Listener> boundListeners(ProxyView view) {
    java.util.SortedMap<String, Listener> out = new TreeMap<>();
    List<Port> bound = ports(view).stream().filter(Port::bindsToPort).toList();
    if (bound.isEmpty()) return out;
    List<io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter> http = httpFilters(view);
    Rbac.Rules tcp = Rbac.forWorkload(view, Rbac.Target.TCP);
    TrustBundles trust = view.context().trustBundles();
    for (Port p : bound) {
      String bind = p.ingress().bind() != null ? p.ingress().bind() : WellKnown.WILDCARD;
      String name = bind + "_" + p.number();
      MtlsMode mode = ServerMtls.mode(view, p.number());
      Listener.Builder l = Listener.newBuilder()
          .setName(name)
          .setAddress(Protos.address(bind, p.number()))
          .setTrafficDirection(TrafficDirection.INBOUND);
      FilterChainMatch.Builder any = FilterChainMatch.newBuilder();
      if (mode == MtlsMode.STRICT) {
        l.addFilterChains(portChain(name, any, p, http, tcp, true, trust));
      } else {
        l.addFilterChains(portChain(name, any.clone().setTransportProtocol(WellKnown.RAW_BUFFER), p, http, tcp,
            false, trust));
        if (mode == MtlsMode.PERMISSIVE) {
          l.addFilterChains(portChain(name + WellKnown.MTLS_CHAIN_SUFFIX,
              any.clone().setTransportProtocol(WellKnown.TLS), p, http, tcp, true, trust));
          l.addListenerFilters(Protos.listenerFilter(WellKnown.TLS_INSPECTOR, TlsInspector.getDefaultInstance()));
        }
      }
      if (out.putIfAbsent(name, l.build()) != null) {
        view.drop("inbound listener " + name, "two ingress ports share this address; the first is kept");
      }
    }
    return out;
  }

  /** One declared port's chain: the workload's RBAC, then the HCM or TCP proxy to its inbound cluster. */
  private static FilterChain portChain(String name, FilterChainMatch.Builder match, Port p,
      List<io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter> http,
      Rbac.Rules tcp, boolean mtls, TrustBundles trust) {
    FilterChain.Builder chain = FilterChain.newBuilder().setName(name).setFilterChainMatch(match);
    if (p.http()) {
      chain.addFilters(ConnectionManagers.inline("inbound_" + name, routes(p.cluster(), p.number()),
          Protocols.isHttp2(p.protocol()), http));
    } else {
      chain.addAllFilters(tcp.networkFilters()).addFilters(Protos.tcpProxy(p.cluster()));
    }
    if (mtls) {
      chain.setTransportSocket(TlsContexts.transportSocket(
          TlsContexts.sidecarServer(p.http() ? TlsContexts.INBOUND_HTTP_ALPN : List.of(), trust)));
    }
    return chain.build();
  }

  /**
   * The TLS inspector runs only on PERMISSIVE ports: elsewhere it would hold server-first protocols
   * waiting for client bytes, and would turn TLS to an undeclared port into a chain miss.
   */
  private static ListenerFilter tlsInspector(List<Integer> ports) {
    List<ListenerFilterChainMatchPredicate> rules = new ArrayList<>();
    for (int p : ports) {
      rules.add(ListenerFilterChainMatchPredicate.newBuilder()
          .setDestinationPortRange(Int32Range.newBuilder().setStart(p).setEnd(p + 1)).build());
    }
    ListenerFilterChainMatchPredicate on = rules.size() == 1 ? rules.get(0)
        : ListenerFilterChainMatchPredicate.newBuilder()
            .setOrMatch(ListenerFilterChainMatchPredicate.MatchSet.newBuilder().addAllRules(rules)).build();
    return ListenerFilter.newBuilder(Protos.listenerFilter(WellKnown.TLS_INSPECTOR, TlsInspector.getDefaultInstance()))
        .setFilterDisabled(ListenerFilterChainMatchPredicate.newBuilder().setNotMatch(on))
        .build();
  }

  /** Inline routes of an inbound chain: everything to the local cluster (Istio's buildSidecarInboundHTTPRouteConfig). */
  private static RouteConfiguration routes(String cluster, int port) {
    return RouteConfiguration.newBuilder()
        .setName(cluster)
        .addVirtualHosts(VirtualHost.newBuilder()
            .setName("inbound|http|" + port)
            .addDomains("*")
            .addRoutes(HttpRoutes.inbound(cluster)))
        .setValidateClusters(BoolValue.of(false))
        .build();
  }

  /**
   * Only the catch-all chain needs protocol detection; on declared ports (and 15006 itself) the
   * inspector is switched off so server-first protocols are not held waiting for client bytes.
   */
  private static ListenerFilter httpInspector(List<Port> ports) {
    List<Integer> off = new ArrayList<>();
    for (Port p : ports) off.add(p.number());
    if (!off.contains(WellKnown.INBOUND_CAPTURE_PORT)) off.add(WellKnown.INBOUND_CAPTURE_PORT);
    off.sort(Integer::compare);
    List<ListenerFilterChainMatchPredicate> rules = new ArrayList<>();
    for (int p : off) {
      rules.add(ListenerFilterChainMatchPredicate.newBuilder()
          .setDestinationPortRange(Int32Range.newBuilder().setStart(p).setEnd(p + 1)).build());
    }
    ListenerFilterChainMatchPredicate disabled = rules.size() == 1 ? rules.get(0)
        : ListenerFilterChainMatchPredicate.newBuilder()
            .setOrMatch(ListenerFilterChainMatchPredicate.MatchSet.newBuilder().addAllRules(rules)).build();
    return ListenerFilter.newBuilder(Protos.listenerFilter(WellKnown.HTTP_INSPECTOR, HttpInspector.getDefaultInstance()))
        .setFilterDisabled(disabled)
        .build();
  }
}
