package weft.xds.envoygen;

import com.google.protobuf.BoolValue;
import com.google.protobuf.UInt32Value;
import io.envoyproxy.envoy.config.core.v3.CidrRange;
import io.envoyproxy.envoy.config.core.v3.TrafficDirection;
import io.envoyproxy.envoy.config.listener.v3.FilterChain;
import io.envoyproxy.envoy.config.listener.v3.FilterChainMatch;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.extensions.filters.listener.http_inspector.v3.HttpInspector;
import io.envoyproxy.envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector;
import java.util.ArrayList;
import java.util.List;
import java.util.SortedMap;
import java.util.TreeMap;
import weft.registry.MeshService;
import weft.registry.ServiceView;
import weft.xds.view.ProxyView;

/**
 * A sidecar's listeners as Istio builds them (listener.go, listener_builder.go): the two capture
 * listeners, one shared {@code 0.0.0.0_PORT} per HTTP port and one {@code VIP_PORT} per TCP service
 * port. Outbound listeners do not bind: {@code virtualOutbound} hands each connection to the listener
 * matching its original destination.
 */
final class SidecarListeners {
  private SidecarListeners() {}

  /**
   * The outbound listeners of every visible service: a function of the proxy's namespace, cluster,
   * Sidecar and the labels routing rules match on, never of its own workload.
   */
  static SortedMap<String, Listener> outbound(ProxyView view) {
    weft.model.Sidecar sidecar = view.sidecar();
    if (sidecar != null && EgressListeners.shaped(sidecar)) return EgressListeners.outbound(view, sidecar);
    return outbound(view, Visible.services(view), 0, null);
  }

  /**
   * The outbound listeners of {@code services}: of all their ports, or of {@code onlyPort} alone when
   * it is not 0; {@code declaredProtocol} (a Sidecar egress port's) replaces each port's own when set.
   */
  static SortedMap<String, Listener> outbound(ProxyView view, List<ServiceView> services, int onlyPort,
      String declaredProtocol) {
    SortedMap<String, Listener> out = new TreeMap<>();
    SortedMap<Integer, WildcardPort> wildcard = new TreeMap<>();
    for (ServiceView sv : services) {
      SortedMap<String, Listener> mine = new TreeMap<>();
      outbound(view, sv.service(), onlyPort, declaredProtocol, out, mine, wildcard);
      out.putAll(mine);
    }
    String fallthrough = fallthroughCluster(view);
    wildcard.forEach((port, w) -> {
      String name = WellKnown.WILDCARD + "_" + port;
      out.put(name, wildcardListener(name, port, w, fallthrough));
    });
    return out;
  }

  /**
   * Where connections to destinations outside the registry go (Istio's buildOutboundCatchAllNetworkFiltersOnly):
   * the BlackHoleCluster under REGISTRY_ONLY; under ALLOW_ANY the Sidecar's {@code egressProxy} cluster
   * ({@code outbound|PORT|SUBSET|HOST}) when it names one, else the PassthroughCluster.
   */
  static String fallthroughCluster(ProxyView view) {
    if (registryOnly(view)) return WellKnown.BLACK_HOLE_CLUSTER;
    weft.model.Sidecar sidecar = view.sidecar();
    if (sidecar != null && sidecar.egressProxy() != null) {
      weft.model.VirtualService.Destination d = sidecar.egressProxy();
      return weft.xds.ClusterName.outbound(d.port(), d.subset() == null ? "" : d.subset(), d.host()).toString();
    }
    return WellKnown.PASSTHROUGH_CLUSTER;
  }

  /**
   * Istio's {@code outboundTrafficPolicy}: the workload's Sidecar, else the mesh's. REGISTRY_ONLY
   * sends connections to destinations outside the registry to the BlackHoleCluster.
   */
  static boolean registryOnly(ProxyView view) {
    weft.model.Sidecar sidecar = view.sidecar();
    String mode = sidecar != null && sidecar.outboundTrafficPolicy() != null ? sidecar.outboundTrafficPolicy()
        : view.snapshot().meshConfig().outboundTrafficPolicy();
    return weft.model.MeshConfig.REGISTRY_ONLY.equals(mode);
  }

  /**
   * What shares one {@code 0.0.0.0_PORT} listener: the HTTP services of the port (one chain, with
   * whether one speaks gRPC-Web), then chains of services clients reach without an address of their
   * own: by destination prefix for CIDR addresses, by SNI for TLS and HTTPS ports, and the one TCP
   * service that takes the rest (Istio's listener for a ServiceEntry without addresses).
   */
  private static final class WildcardPort {
    boolean http;
    boolean grpcWeb;
    final List<FilterChain> chains = new ArrayList<>();
    final java.util.Set<Object> matches = new java.util.HashSet<>();
    FilterChain catchAll;
    String catchAllHost;
  }

  /** One service's TCP listeners into {@code mine}, and its share of the {@code 0.0.0.0_PORT} listeners. */
  private static void outbound(ProxyView view, MeshService s, int onlyPort, String declaredProtocol,
      SortedMap<String, Listener> existing, SortedMap<String, Listener> mine, SortedMap<Integer, WildcardPort> wildcard) {
    for (MeshService.Port servicePort : s.ports()) {
      if (onlyPort != 0 && servicePort.number() != onlyPort) continue;
      MeshService.Port p = declaredProtocol == null ? servicePort
          : new MeshService.Port(servicePort.name(), servicePort.number(), declaredProtocol);
      if (Protocols.isUdp(p.protocol())) continue;
      if (Protocols.isHttp(p.protocol())) {
        WildcardPort w = wildcard.computeIfAbsent(p.number(), k -> new WildcardPort());
        w.http = true;
        w.grpcWeb |= Protocols.normalize(p.protocol()).equals("GRPC-WEB");
        continue;
      }
      String subject = s.hostname() + ":" + p.number();
      String vip = Visible.vip(view, s);
      if (vip != null && vip.contains("/")) {
        cidrChain(view, s, p.number(), subject, wildcard.computeIfAbsent(p.number(), k -> new WildcardPort()));
        continue;
      }
      if (vip == null || vip.equals(WellKnown.WILDCARD)) {
        if (s.serviceEntry() == null) {
          view.drop(subject, "TCP port of a service without a virtual IP: no outbound listener");
        } else {
          addressless(view, s, p, subject, wildcard.computeIfAbsent(p.number(), k -> new WildcardPort()));
        }
        continue;
      }
      String name = vip + "_" + p.number();
      if (existing.containsKey(name) || mine.containsKey(name)) {
        view.drop(subject, "listener " + name + " already belongs to another service with the same address");
        continue;
      }
      mine.put(name, tcpListener(view, name, vip, p.number(), s.hostname()));
    }
  }

  /** A ServiceEntry whose addresses are CIDR blocks: its connections are told apart by destination prefix. */
  private static void cidrChain(ProxyView view, MeshService s, int port, String subject, WildcardPort w) {
    List<CidrRange> ranges = new ArrayList<>();
    for (String a : s.serviceEntry().addresses()) {
      CidrRange r = weft.xds.security.Matchers.cidr(a.contains("/") ? a : a + (a.contains(":") ? "/128" : "/32"));
      if (r != null) ranges.add(r);
    }
    if (ranges.isEmpty() || !w.matches.add(List.copyOf(ranges))) {
      view.drop(subject, "another service on port " + port + " already claims the addresses " + ranges.stream()
          .map(r -> r.getAddressPrefix() + "/" + r.getPrefixLen().getValue()).toList() + "; no listener chain");
      return;
    }
    w.chains.add(FilterChain.newBuilder()
        .setName(subject)
        .setFilterChainMatch(FilterChainMatch.newBuilder().addAllPrefixRanges(ranges))
        .addFilters(Protos.tcpProxy(weft.xds.ClusterName.outbound(port, "", s.hostname()).toString()))
        .build());
  }

  /**
   * A TCP, TLS or HTTPS port of a ServiceEntry without addresses, for a proxy that does not proxy
   * DNS (Istio's {@code 0.0.0.0_PORT} listener): TLS and HTTPS are told apart by the SNI the client
   * sends, one chain per host (a VirtualService {@code tls} route for the mesh may send it
   * elsewhere, e.g. to an egress gateway); plain TCP has nothing to tell hosts apart by, so the
   * first entry by hostname takes the port's remaining connections and the others are named.
   */
  private static void addressless(ProxyView view, MeshService s, MeshService.Port p, String subject, WildcardPort w) {
    String protocol = Protocols.normalize(p.protocol());
    String cluster = weft.xds.ClusterName.outbound(p.number(), "", s.hostname()).toString();
    if (protocol.equals("TLS") || protocol.equals("HTTPS")) {
      if (!w.matches.add("sni:" + s.hostname())) {
        view.drop(subject, "another service already claims server name " + s.hostname() + " on port " + p.number());
        return;
      }
      io.envoyproxy.envoy.config.listener.v3.Filter proxy = TcpRoutes.meshTlsRoute(view, s.hostname(), p.number());
      w.chains.add(FilterChain.newBuilder()
          .setName(subject)
          .setFilterChainMatch(FilterChainMatch.newBuilder()
              .setTransportProtocol(WellKnown.TLS)
              .addServerNames(s.hostname()))
          .addFilters(proxy != null ? proxy : Protos.tcpProxy(cluster))
          .build());
      return;
    }
    if (w.catchAll != null) {
      view.drop(subject, "port " + p.number() + " of " + WellKnown.WILDCARD + "_" + p.number() + " already goes to "
          + w.catchAllHost + " (a TCP ServiceEntry without addresses takes every connection to its port, and the "
          + "first by hostname wins); give this entry addresses, or let the proxy proxy DNS for automatic ones");
      return;
    }
    w.catchAllHost = s.hostname();
    w.catchAll = FilterChain.newBuilder().setName(subject).addFilters(Protos.tcpProxy(cluster)).build();
  }

  /** Everything iptables sends to 15001 goes to the listener of its original destination, else passes through. */
  static Listener virtualOutbound() {
    return virtualOutbound(false);
  }

  /** The same, with outboundTrafficPolicy REGISTRY_ONLY sending unknown destinations to the BlackHoleCluster. */
  static Listener virtualOutbound(boolean registryOnly) {
    return virtualOutbound(registryOnly ? WellKnown.BLACK_HOLE_CLUSTER : WellKnown.PASSTHROUGH_CLUSTER);
  }

  /** The same, with connections to unknown destinations sent to {@code fallthrough}. */
  static Listener virtualOutbound(String fallthrough) {
    return Listener.newBuilder()
        .setName(WellKnown.VIRTUAL_OUTBOUND)
        .setAddress(Protos.address(WellKnown.WILDCARD, WellKnown.OUTBOUND_CAPTURE_PORT))
        .setUseOriginalDst(BoolValue.of(true))
        .setTrafficDirection(TrafficDirection.OUTBOUND)
        // A connection addressed to 15001 itself would loop back into this listener.
        .addFilterChains(FilterChain.newBuilder()
            .setName(WellKnown.OUTBOUND_BLACKHOLE_CHAIN)
            .setFilterChainMatch(FilterChainMatch.newBuilder()
                .setDestinationPort(UInt32Value.of(WellKnown.OUTBOUND_CAPTURE_PORT)))
            .addFilters(Protos.tcpProxy(WellKnown.BLACK_HOLE_CLUSTER)))
        // outboundTrafficPolicy: ALLOW_ANY reaches unknown destinations directly, REGISTRY_ONLY drops them.
        .addFilterChains(FilterChain.newBuilder()
            .setName(WellKnown.OUTBOUND_CATCHALL_CHAIN)
            .addFilters(Protos.tcpProxy(fallthrough)))
        .build();
  }

  /**
   * Shared by every service on the port without an address of its own. HTTP services share one
   * chain, where the Host header picks the virtual host; Istio matches only what the HTTP inspector
   * recognises as plaintext HTTP. Other traffic to the port (an unknown destination) passes
   * through, or under REGISTRY_ONLY goes to the BlackHoleCluster.
   */
  private static Listener wildcardListener(String name, int port, WildcardPort w, String fallthrough) {
    Listener.Builder l = outbound(name, WellKnown.WILDCARD, port)
        .addListenerFilters(Protos.listenerFilter(WellKnown.TLS_INSPECTOR, TlsInspector.getDefaultInstance()));
    if (w.http) {
      l.addListenerFilters(Protos.listenerFilter(WellKnown.HTTP_INSPECTOR, HttpInspector.getDefaultInstance()))
          .addFilterChains(FilterChain.newBuilder()
              .setFilterChainMatch(FilterChainMatch.newBuilder()
                  .setTransportProtocol(WellKnown.RAW_BUFFER)
                  .addAllApplicationProtocols(WellKnown.PLAINTEXT_HTTP_ALPNS))
              .addFilters(ConnectionManagers.rds("outbound_" + name, String.valueOf(port), false, w.grpcWeb)));
    }
    l.addAllFilterChains(w.chains);
    if (w.catchAll != null) {
      l.setDefaultFilterChain(w.catchAll.toBuilder().setFilterChainMatch(FilterChainMatch.getDefaultInstance()));
    } else {
      l.setDefaultFilterChain(FilterChain.newBuilder()
          .setName(fallthrough.equals(WellKnown.BLACK_HOLE_CLUSTER) ? WellKnown.BLACK_HOLE_CLUSTER
              : WellKnown.PASSTHROUGH_CHAIN)
          .setFilterChainMatch(FilterChainMatch.getDefaultInstance())
          .addFilters(Protos.tcpProxy(fallthrough)));
    }
    return l.build();
  }

  /** A dedicated listener per TCP service port, at the VIP clients dial. */
  static Listener tcpListener(ProxyView view, String name, String vip, int port, String host) {
    return tcpListener(view, name, vip, port, host, false);
  }

  /** The same at any address; {@code bindToPort} makes Envoy bind it (Sidecar captureMode NONE). */
  static Listener tcpListener(ProxyView view, String name, String vip, int port, String host, boolean bindToPort) {
    List<FilterChain> chains = TcpRoutes.sidecarChains(view, host, port);
    Listener.Builder l = outbound(name, vip, port);
    if (bindToPort) l.setBindToPort(BoolValue.of(true));
    if (chains.size() == 1) {
      l.addFilterChains(chains.get(0));
    } else {
      // The last chain matches everything; as Envoy's default chain it cannot shadow the specific ones.
      l.addAllFilterChains(chains.subList(0, chains.size() - 1));
      l.setDefaultFilterChain(chains.get(chains.size() - 1));
    }
    return l.build();
  }

  static Listener.Builder outbound(String name, String ip, int port) {
    return Listener.newBuilder()
        .setName(name)
        .setAddress(Protos.address(ip, port))
        .setBindToPort(BoolValue.of(false))
        .setTrafficDirection(TrafficDirection.OUTBOUND)
        .setContinueOnListenerFiltersTimeout(true)
        .setListenerFiltersTimeout(Protos.ZERO);
  }
}
