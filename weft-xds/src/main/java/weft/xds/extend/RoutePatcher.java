package weft.xds.extend;

import io.envoyproxy.envoy.config.route.v3.Route;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.config.route.v3.VirtualHost;
import java.util.ArrayList;
import java.util.List;
import weft.model.EnvoyFilter;

/**
 * ROUTE_CONFIGURATION, VIRTUAL_HOST and HTTP_ROUTE patches on one route configuration, with Istio's
 * match rules (route_patch.go): a sidecar's configuration matches by port (its name is the port) and
 * name; a gateway's by port, port name and gateway from its {@code http.PORT} or
 * {@code https.PORT.PORTNAME.GATEWAY} name; a virtual host by name or domain; a route by name and
 * action.
 */
final class RoutePatcher {
  private final List<Step> steps;
  private final PatchContext context;
  private final Findings findings;

  RoutePatcher(List<Step> steps, PatchContext context, Findings findings) {
    this.steps = steps;
    this.context = context;
    this.findings = findings;
  }

  RouteConfiguration patch(RouteConfiguration rc) {
    RouteConfiguration out = rc;
    for (Step s : steps) {
      if (!s.patch().applyTo().equals("ROUTE_CONFIGURATION") || !s.inContext(context)
          || !routeMatch(out, s.match().routeConfiguration())) {
        continue;
      }
      RouteConfiguration cur = out;
      switch (s.op()) {
        case "MERGE" -> out = guarded(s, cur, () -> ProtoMerge.merge(cur, s.value()));
        case "REPLACE" -> out = s.value(RouteConfiguration.class);
        default -> { }
      }
    }
    List<VirtualHost> hosts = new ArrayList<>();
    for (VirtualHost vh : out.getVirtualHostsList()) {
      VirtualHost p = vhost(out, vh);
      if (p != null) hosts.add(p);
    }
    for (Step s : steps) {
      if (s.patch().applyTo().equals("VIRTUAL_HOST") && s.op().equals("ADD") && s.inContext(context)
          && routeMatch(out, s.match().routeConfiguration())) {
        hosts.add(s.value(VirtualHost.class));
      }
    }
    return out.toBuilder().clearVirtualHosts().addAllVirtualHosts(hosts).build();
  }

  private VirtualHost vhost(RouteConfiguration rc, VirtualHost vh) {
    VirtualHost v = vh;
    for (Step s : steps) {
      if (!s.patch().applyTo().equals("VIRTUAL_HOST") || !s.inContext(context)) continue;
      EnvoyFilter.RouteMatch m = s.match().routeConfiguration();
      if (!routeMatch(rc, m) || !vhostMatch(v, m)) continue;
      VirtualHost cur = v;
      switch (s.op()) {
        case "MERGE" -> v = guarded(s, cur, () -> ProtoMerge.merge(cur, s.value()));
        case "REPLACE" -> v = s.value(VirtualHost.class);
        case "REMOVE" -> {
          return null;
        }
        default -> { }
      }
    }
    List<Route> routes = new ArrayList<>(v.getRoutesList());
    for (Step s : steps) {
      if (!s.patch().applyTo().equals("HTTP_ROUTE") || !s.inContext(context)) continue;
      EnvoyFilter.RouteMatch m = s.match().routeConfiguration();
      if (!routeMatch(rc, m) || !vhostMatch(v, m)) continue;
      int first = -1;
      for (int i = 0; i < routes.size(); i++) {
        if (httpRouteMatch(routes.get(i), m)) {
          first = i;
          break;
        }
      }
      Route value = s.value(Route.class);
      switch (s.op()) {
        case "ADD" -> routes.add(value);
        case "INSERT_FIRST" -> routes.add(0, value);
        case "INSERT_BEFORE" -> {
          if (first >= 0) routes.add(first, value);
        }
        case "INSERT_AFTER" -> {
          if (first >= 0) routes.add(first + 1, value);
        }
        case "REPLACE" -> {
          if (first >= 0) routes.set(first, value);
        }
        case "REMOVE" -> routes.removeIf(r -> httpRouteMatch(r, m));
        case "MERGE" -> {
          for (int i = 0; i < routes.size(); i++) {
            if (!httpRouteMatch(routes.get(i), m)) continue;
            Route cur = routes.get(i);
            routes.set(i, guarded(s, cur, () -> ProtoMerge.merge(cur, value)));
          }
        }
        default -> { }
      }
    }
    return v.toBuilder().clearRoutes().addAllRoutes(routes).build();
  }

  private <T> T guarded(Step s, T before, java.util.function.Supplier<T> change) {
    try {
      return change.get();
    } catch (RuntimeException e) {
      findings.patch(s.filter(), s.patch(), "could not be applied: " + e.getMessage());
      return before;
    }
  }

  private boolean routeMatch(RouteConfiguration rc, EnvoyFilter.RouteMatch m) {
    if (m == null) return true;
    if (m.name() != null && !m.name().equals(rc.getName())) return false;
    String name = rc.getName();
    if (context != PatchContext.GATEWAY) {
      // Outbound tables are named by port; inbound ones by their cluster, inbound|PORT||.
      String port = name.startsWith("inbound|") ? name.split("\\|", -1)[1] : name;
      return m.portNumber() == 0 || port.equals(Integer.toString(m.portNumber()));
    }
    // Gateway route names: http.PORT, or https.PORT.PORTNAME.GATEWAY (Istio's gateway RDS names).
    String[] parts = name.split("\\.", 4);
    String port = parts.length > 1 ? parts[1] : "";
    String portName = parts.length > 2 ? parts[2] : "";
    String gateway = parts.length > 3 ? parts[3] : "";
    if (m.portNumber() != 0 && !port.equals(Integer.toString(m.portNumber()))) return false;
    if (m.portName() != null && !m.portName().equals(portName)) return false;
    return m.gateway() == null || m.gateway().equals(gateway);
  }

  private static boolean vhostMatch(VirtualHost vh, EnvoyFilter.RouteMatch m) {
    if (m == null) return true;
    if (m.vhostName() != null && !m.vhostName().equals(vh.getName())) return false;
    return m.vhostDomain() == null || vh.getDomainsList().contains(m.vhostDomain());
  }

  private static boolean httpRouteMatch(Route r, EnvoyFilter.RouteMatch m) {
    if (m == null) return true;
    if (m.routeName() != null && !m.routeName().equals(r.getName())) return false;
    return switch (m.routeAction() == null ? "ANY" : m.routeAction()) {
      case "ROUTE" -> r.hasRoute();
      case "REDIRECT" -> r.hasRedirect();
      case "DIRECT_RESPONSE" -> r.hasDirectResponse();
      default -> true;
    };
  }
}
