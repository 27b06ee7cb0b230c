package weft.xds.envoygen;

import com.google.protobuf.BoolValue;
import io.envoyproxy.envoy.config.route.v3.Route;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.config.route.v3.VirtualHost;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import weft.model.VirtualService;
import weft.xds.view.ProxyView;
import weft.xds.envoygen.GatewayServers.Entry;

/**
 * A router's route configurations (Istio's buildGatewayHTTPRouteConfig): for every server using the
 * route name, one virtual host per host that both the server and a VirtualService bound to its
 * gateway accept.
 */
final class GatewayRoutes {
  private GatewayRoutes() {}

  static RouteConfiguration build(ProxyView view, String name) {
    List<Entry> servers = new ArrayList<>();
    for (Entry e : GatewayServers.all(view)) {
      if (name.equals(e.routeName())) servers.add(e);
    }
    if (servers.isEmpty()) {
      // Envoy may still ask while a deleted gateway's listener drains; an empty table keeps it from waiting.
      view.drop("route " + name, "no gateway server of this router uses this route name");
      return empty(name).build();
    }
    Map<String, VirtualHost.Builder> vhosts = new LinkedHashMap<>();
    Map<String, List<Route>> routesByVs = new HashMap<>();
    for (Entry e : servers) {
      int port = e.server().port().number();
      boolean redirect = e.server().tls() != null && e.server().tls().httpsRedirect();
      for (VirtualService vs : view.virtualServicesForGateway(e.gatewayKey())) {
        List<String> hosts = GatewayHosts.intersect(GatewayServers.hostsFor(e, vs.id().namespace()),
            GatewayHosts.resolved(vs));
        if (hosts.isEmpty()) continue;
        List<Route> routes = routesByVs.computeIfAbsent(e.gatewayKey() + "|" + vs.id() + "|" + port,
            k -> HttpRoutes.forVirtualService(view, vs, port, HttpRoutes.PortInference.SINGLE_SERVICE_PORT,
                e.gatewayKey()));
        if (routes.isEmpty()) {
          view.drop(vs.id() + " on " + e.gatewayKey(), "no HTTP route of the VirtualService applies on port " + port);
          continue;
        }
        for (String host : hosts) {
          VirtualHost.Builder vh = vhosts.computeIfAbsent(host, h -> VirtualHost.newBuilder()
              .setName(h + ":" + port).addDomains(h).setIncludeRequestAttemptCount(true));
          vh.addAllRoutes(routes);
          if (redirect) vh.setRequireTls(VirtualHost.TlsRequirementType.ALL);
        }
      }
      if (redirect) {
        // httpsRedirect answers every host of the server, with or without a VirtualService.
        for (String host : GatewayServers.bareHosts(e.server())) {
          vhosts.computeIfAbsent(host, h -> VirtualHost.newBuilder()
              .setName(h + ":" + port).addDomains(h).setIncludeRequestAttemptCount(true))
              .setRequireTls(VirtualHost.TlsRequirementType.ALL);
        }
      }
    }
    if (vhosts.isEmpty()) {
      view.drop("route " + name, "no VirtualService bound to " + servers.get(0).gatewayKey()
          + " matches the hosts of its servers; no virtual host");
    }
    List<VirtualHost> out = new ArrayList<>();
    for (VirtualHost.Builder vh : vhosts.values()) {
      // Catch-all routes of one VirtualService must not shadow the specific routes of the next (Istio's SortVHostRoutes).
      List<Route> specific = new ArrayList<>();
      List<Route> catchAll = new ArrayList<>();
      for (Route r : vh.getRoutesList()) (RouteMatches.isCatchAll(r) ? catchAll : specific).add(r);
      specific.addAll(catchAll);
      out.add(vh.clearRoutes().addAllRoutes(specific).build());
    }
    out.sort(Comparator.comparing(VirtualHost::getName));
    return empty(name).addAllVirtualHosts(out).build();
  }

  private static RouteConfiguration.Builder empty(String name) {
    return RouteConfiguration.newBuilder()
        .setName(name)
        .setValidateClusters(BoolValue.of(false))
        // Clients reach a gateway on ports Envoy does not listen on (a LoadBalancer's 80 to the pod's 8080).
        .setIgnorePortInHostMatching(true);
  }
}
