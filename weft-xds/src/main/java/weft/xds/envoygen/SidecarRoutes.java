package weft.xds.envoygen;

import com.google.protobuf.BoolValue;
import io.envoyproxy.envoy.config.route.v3.Route;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.config.route.v3.VirtualHost;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import weft.model.VirtualService;
import weft.registry.MeshService;
import weft.registry.ServiceView;
import weft.xds.view.ProxyView;

/**
 * The route configuration a sidecar's {@code 0.0.0.0_PORT} listener fetches by the name {@code PORT}:
 * one virtual host per visible HTTP service on that port, then Istio's {@code allow_any} catch-all.
 */
final class SidecarRoutes {
  private SidecarRoutes() {}

  static RouteConfiguration build(ProxyView view, String name, int port) {
    List<VirtualHost> vhosts = new ArrayList<>();
    // Envoy rejects a route configuration in which two virtual hosts claim one domain.
    Set<String> claimed = new HashSet<>();
    // Istio's GetEgressListenerForRDS: the routes of port PORT come from the Sidecar's egress listener
    // on that port, else its catch-all; a declared HTTP port takes every service on the port.
    weft.model.Sidecar.Egress egress = view.egressFor(port);
    boolean shaped = view.sidecar() != null && EgressListeners.shaped(view.sidecar());
    List<ServiceView> services = !shaped ? Visible.services(view)
        : egress == null ? List.of() : view.visibleServices(egress);
    boolean declaredHttp = shaped && egress != null && egress.port() == port && egress.protocol() != null
        && Protocols.isHttp(egress.protocol());
    for (ServiceView sv : services) {
      VirtualHost vh = virtualHost(view, name, sv.service(), port, claimed, declaredHttp);
      if (vh != null) vhosts.add(vh);
    }
    vhosts.sort(Comparator.comparing(VirtualHost::getName));
    // Unknown hosts on a known HTTP port pass through under outboundTrafficPolicy ALLOW_ANY, and are
    // answered 502 by Istio's block_all virtual host under REGISTRY_ONLY.
    if (SidecarListeners.registryOnly(view)) {
      vhosts.add(VirtualHost.newBuilder()
          .setName(WellKnown.BLOCK_ALL)
          .addDomains("*")
          .addRoutes(Route.newBuilder().setName(WellKnown.BLOCK_ALL)
              .setMatch(io.envoyproxy.envoy.config.route.v3.RouteMatch.newBuilder().setPrefix("/"))
              .setDirectResponse(io.envoyproxy.envoy.config.route.v3.DirectResponseAction.newBuilder().setStatus(502)))
          .setIncludeRequestAttemptCount(true)
          .build());
    } else {
      vhosts.add(VirtualHost.newBuilder()
          .setName(WellKnown.ALLOW_ANY)
          .addDomains("*")
          .addRoutes(HttpRoutes.passthrough(WellKnown.ALLOW_ANY, SidecarListeners.fallthroughCluster(view)))
          .setIncludeRequestAttemptCount(true)
          .build());
    }
    return RouteConfiguration.newBuilder()
        .setName(name)
        .addAllVirtualHosts(vhosts)
        // Routes may name clusters that arrive later (or never); Envoy must not reject the whole table for that.
        .setValidateClusters(BoolValue.of(false))
        .build();
  }

  /** The service's virtual host on this port, or null when it has no HTTP port there or every domain is taken. */
  private static VirtualHost virtualHost(ProxyView view, String name, MeshService s, int port, Set<String> claimed,
      boolean declaredHttp) {
    Optional<MeshService.Port> p = s.port(port);
    if (p.isEmpty() || !(declaredHttp || Protocols.isHttp(p.get().protocol()))) return null;
    String vhName = s.hostname() + ":" + port;
    List<Route> routes = routes(view, s.hostname(), port);
    List<String> domains = new ArrayList<>();
    List<String> taken = new ArrayList<>();
    for (String d : Domains.of(s.hostname(), port, Visible.vip(view, s), view.proxy())) {
      if (claimed.add(d.toLowerCase(Locale.ROOT))) {
        domains.add(d);
      } else {
        taken.add(d);
      }
    }
    if (!taken.isEmpty()) {
      view.drop("route " + name + " " + vhName, "domains " + taken + " already belong to another virtual host");
    }
    if (domains.isEmpty()) return null;
    return VirtualHost.newBuilder()
        .setName(vhName)
        .addAllDomains(domains)
        .addAllRoutes(routes)
        .setIncludeRequestAttemptCount(true)
        .build();
  }

  private static List<Route> routes(ProxyView view, String host, int port) {
    VirtualService vs = view.virtualService(host);
    List<Route> routes = vs == null ? List.of()
        : HttpRoutes.forVirtualService(view, vs, port, HttpRoutes.PortInference.LISTENER_PORT);
    if (vs != null && routes.isEmpty()) {
      view.drop(vs.id() + " on " + host + ":" + port, "no HTTP route of the VirtualService applies on this port; default route used");
    }
    return routes.isEmpty() ? List.of(HttpRoutes.defaultRoute(view, host, port)) : routes;
  }
}
