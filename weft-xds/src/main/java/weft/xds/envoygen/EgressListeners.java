package weft.xds.envoygen;

import com.google.protobuf.BoolValue;
import io.envoyproxy.envoy.config.listener.v3.FilterChain;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import java.util.List;
import java.util.SortedMap;
import java.util.TreeMap;
import weft.model.Sidecar;
import weft.registry.MeshService;
import weft.registry.ServiceView;
import weft.xds.view.ProxyView;

/**
 * A sidecar's outbound listeners when its Sidecar shapes them (Istio's buildSidecarOutboundListeners):
 * each egress listener in order builds listeners from its own hosts only. One with a {@code port}
 * builds that port alone (its declared protocol decides HTTP or TCP); the catch-all builds every
 * other port; a listener name an earlier egress listener produced stays the earlier one's (Istio
 * locks them). {@code bind} moves the listeners to that address ({@code BIND_PORT}, one per port);
 * {@code captureMode: NONE} makes Envoy bind them, at 127.0.0.1 when no bind is given.
 */
final class EgressListeners {
  /** Istio's actualLocalHosts for an IPv4 proxy: where NONE-mode listeners bind by default. */
  static final String LOCALHOST = "127.0.0.1";
  private static final String UNIX = "unix://";

  private EgressListeners() {}

  /** True when some egress listener has a port, a bind or captureMode NONE; otherwise the plain path is exact. */
  static boolean shaped(Sidecar sidecar) {
    for (Sidecar.Egress e : sidecar.egress()) {
      if (e.port() != 0 || e.bind() != null || e.bindsToPort()) return true;
    }
    return false;
  }

  static SortedMap<String, Listener> outbound(ProxyView view, Sidecar sidecar) {
    SortedMap<String, Listener> out = new TreeMap<>();
    for (Sidecar.Egress e : sidecar.egress()) {
      // A unix domain socket listener is not generated; reading the Sidecar warned about it once.
      if (e.bind() != null && e.bind().startsWith(UNIX)) continue;
      List<ServiceView> services = view.visibleServices(e);
      String bind = e.bind() != null ? e.bind() : e.bindsToPort() ? LOCALHOST : null;
      SortedMap<String, Listener> mine = bind == null
          ? SidecarListeners.outbound(view, services, e.port(), e.protocol())
          : bound(view, services, e, bind);
      String owner = sidecar.id() + " egress " + (e.port() == 0 ? "catch-all" : "port " + e.port());
      mine.forEach((name, l) -> {
        if (out.putIfAbsent(name, l) != null) {
          view.drop("listener " + name + " of " + owner, "an earlier egress listener of the Sidecar builds it; "
              + "its hosts are served there");
        }
      });
    }
    return out;
  }

  /**
   * Listeners at {@code bind}: an HTTP port shares one {@code BIND_PORT} listener whose routes
   * ({@code PORT}) come from the egress listener for the port; a TCP port carries one service, the
   * first by hostname.
   */
  private static SortedMap<String, Listener> bound(ProxyView view, List<ServiceView> services, Sidecar.Egress e,
      String bind) {
    SortedMap<String, Listener> out = new TreeMap<>();
    SortedMap<String, String> tcpOwner = new TreeMap<>();
    for (ServiceView sv : services) {
      MeshService s = sv.service();
      for (MeshService.Port p : s.ports()) {
        if (e.port() != 0 && p.number() != e.port()) continue;
        String protocol = e.protocol() != null ? e.protocol() : p.protocol();
        if (Protocols.isUdp(protocol)) continue;
        String name = bind + "_" + p.number();
        String subject = s.hostname() + ":" + p.number();
        if (Protocols.isHttp(protocol)) {
          if (tcpOwner.containsKey(name)) {
            view.drop(subject, "listener " + name + " already carries TCP for " + tcpOwner.get(name));
            continue;
          }
          out.computeIfAbsent(name, n -> httpListener(n, bind, p.number(), e.bindsToPort(),
              Protocols.normalize(protocol).equals("GRPC-WEB")));
          continue;
        }
        if (out.containsKey(name)) {
          view.drop(subject, "listener " + name + " already carries " + tcpOwner.getOrDefault(name, "HTTP")
              + "; one TCP service per bound address and port");
          continue;
        }
        tcpOwner.put(name, s.hostname());
        out.put(name, SidecarListeners.tcpListener(view, name, bind, p.number(), s.hostname(), e.bindsToPort()));
      }
    }
    return out;
  }

  private static Listener httpListener(String name, String bind, int port, boolean bindToPort, boolean grpcWeb) {
    Listener.Builder l = SidecarListeners.outbound(name, bind, port)
        .addFilterChains(FilterChain.newBuilder()
            .addFilters(ConnectionManagers.rds("outbound_" + name, String.valueOf(port), false, grpcWeb)));
    if (bindToPort) l.setBindToPort(BoolValue.of(true));
    return l.build();
  }
}
