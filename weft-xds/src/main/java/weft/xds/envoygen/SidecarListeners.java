package weft.xds.envoygen;

import com.google.protobuf.BoolValue;
import com.google.protobuf.UInt32Value;
import io.envoyproxy.envoy.config.core.v3.TrafficDirection;
import io.envoyproxy.envoy.config.listener.v3.FilterChain;
import io.envoyproxy.envoy.config.listener.v3.FilterChainMatch;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.extensions.filters.listener.http_inspector.v3.HttpInspector;
import io.envoyproxy.envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector;
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
    SortedMap<String, Listener> out = new TreeMap<>();
    SortedMap<Integer, Boolean> httpPorts = new TreeMap<>(); // port → some service there speaks gRPC-Web
    for (ServiceView sv : Visible.services(view)) {
      SortedMap<String, Listener> mine = new TreeMap<>();
      SortedMap<Integer, Boolean> myHttp = new TreeMap<>();
      outbound(view, sv.service(), out, mine, myHttp);
      out.putAll(mine);
      myHttp.forEach((port, grpcWeb) -> httpPorts.merge(port, grpcWeb, Boolean::logicalOr));
    }
    httpPorts.forEach((port, grpcWeb) -> {
      String name = WellKnown.WILDCARD + "_" + port;
      out.put(name, httpListener(name, port, grpcWeb));
    });
    return out;
  }

  /** One service's TCP listeners into {@code mine}, and its HTTP ports (with whether they speak gRPC-Web). */
  private static void outbound(ProxyView view, MeshService s, SortedMap<String, Listener> existing,
      SortedMap<String, Listener> mine, SortedMap<Integer, Boolean> httpPorts) {
    for (MeshService.Port p : s.ports()) {
      if (Protocols.isUdp(p.protocol())) continue;
      if (Protocols.isHttp(p.protocol())) {
        httpPorts.merge(p.number(), Protocols.normalize(p.protocol()).equals("GRPC-WEB"), Boolean::logicalOr);
        continue;
      }
      String subject = s.hostname() + ":" + p.number();
      String vip = Visible.vip(view, s);
      if (vip == null || vip.equals(WellKnown.WILDCARD)) {
        view.drop(subject, "TCP port of a service without a virtual IP: no outbound listener");
        continue;
      }
      if (vip.contains("/")) {
        view.drop(subject, "TCP port of a service whose address is a CIDR (" + vip + "): not supported yet");
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

  /** Everything iptables sends to 15001 goes to the listener of its original destination, else passes through. */
  static Listener virtualOutbound() {
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
        // outboundTrafficPolicy ALLOW_ANY: unknown destinations are reached directly.
        .addFilterChains(FilterChain.newBuilder()
            .setName(WellKnown.OUTBOUND_CATCHALL_CHAIN)
            .addFilters(Protos.tcpProxy(WellKnown.PASSTHROUGH_CLUSTER)))
        .build();
  }

  /**
   * Shared by every HTTP service on the port; the Host header picks the virtual host. Istio matches
   * only what the HTTP inspector recognises as plaintext HTTP, so other traffic to the port (an
   * unknown TCP destination) still passes through.
   */
  private static Listener httpListener(String name, int port, boolean grpcWeb) {
    return outbound(name, WellKnown.WILDCARD, port)
        .addListenerFilters(Protos.listenerFilter(WellKnown.TLS_INSPECTOR, TlsInspector.getDefaultInstance()))
        .addListenerFilters(Protos.listenerFilter(WellKnown.HTTP_INSPECTOR, HttpInspector.getDefaultInstance()))
        .addFilterChains(FilterChain.newBuilder()
            .setFilterChainMatch(FilterChainMatch.newBuilder()
                .setTransportProtocol(WellKnown.RAW_BUFFER)
                .addAllApplicationProtocols(WellKnown.PLAINTEXT_HTTP_ALPNS))
            .addFilters(ConnectionManagers.rds("outbound_" + name, String.valueOf(port), false, grpcWeb)))
        .setDefaultFilterChain(FilterChain.newBuilder()
            .setName(WellKnown.PASSTHROUGH_CHAIN)
            .setFilterChainMatch(FilterChainMatch.getDefaultInstance())
            .addFilters(Protos.tcpProxy(WellKnown.PASSTHROUGH_CLUSTER)))
        .build();
  }

  /** A dedicated listener per TCP service port, at the VIP clients dial. */
  private static Listener tcpListener(ProxyView view, String name, String vip, int port, String host) {
    List<FilterChain> chains = TcpRoutes.sidecarChains(view, host, port);
    Listener.Builder l = outbound(name, vip, port);
    if (chains.size() == 1) {
      l.addFilterChains(chains.get(0));
    } else {
      // The last chain matches everything; as Envoy's default chain it cannot shadow the specific ones.
      l.addAllFilterChains(chains.subList(0, chains.size() - 1));
      l.setDefaultFilterChain(chains.get(chains.size() - 1));
    }
    return l.build();
  }

  private static Listener.Builder outbound(String name, String ip, int port) {
    return Listener.newBuilder()
        .setName(name)
        .setAddress(Protos.address(ip, port))
        .setBindToPort(BoolValue.of(false))
        .setTrafficDirection(TrafficDirection.OUTBOUND)
        .setContinueOnListenerFiltersTimeout(true)
        .setListenerFiltersTimeout(Protos.ZERO);
  }
}
