package weft.xds.envoygen;

import com.google.protobuf.Any;
import com.google.protobuf.UInt32Value;
import io.envoyproxy.envoy.config.route.v3.RetryPolicy;
import io.envoyproxy.envoy.config.route.v3.Route;
import io.envoyproxy.envoy.config.route.v3.RouteAction;
import io.envoyproxy.envoy.config.route.v3.RouteMatch;
import io.envoyproxy.envoy.config.route.v3.WeightedCluster;
import io.envoyproxy.envoy.extensions.filters.http.fault.v3.HTTPFault;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import weft.model.DestinationRule;
import weft.model.Labels;
import weft.model.VirtualService;
import weft.model.VirtualService.HttpMatch;
import weft.model.VirtualService.HttpRoute;
import weft.model.VirtualService.RouteDestination;
import weft.registry.ServiceView;
import weft.xds.ClusterName;
import weft.xds.view.Hosts;
import weft.xds.view.ProxyView;

/**
 * VirtualService HTTP routes to Envoy routes, as Istio's route package translates them
 * (route.go, retry/retry.go): matches, weighted clusters, timeouts, retries, faults, rewrites and
 * consistent-hash policies. Shared by sidecar and gateway route configurations.
 */
final class HttpRoutes {
  private HttpRoutes() {}

  /**
   * How a destination without a port gets one. Sidecars take the listener port (Istio only knows
   * the services on that port there); gateways take the destination's only port when it has one.
   */
  enum PortInference { LISTENER_PORT, SINGLE_SERVICE_PORT }

  /**
   * The routes a VirtualService gives on one listener port, in order; empty when none applies
   * (the caller then uses the default route). Stops after the first catch-all route, as Envoy
   * would never reach the rest.
   */
  static List<Route> forVirtualService(ProxyView view, VirtualService vs, int listenPort, PortInference ports) {
    return forVirtualService(view, vs, listenPort, ports, TcpRoutes.MESH);
  }

  /**
   * The same for one gateway ({@code namespace/name}, or {@code mesh} for sidecars): a match whose
   * {@code gateways} do not name it is left out (Istio's egress-gateway pattern keeps the mesh's
   * route to the gateway and the gateway's route onwards in one VirtualService this way).
   */
  static List<Route> forVirtualService(ProxyView view, VirtualService vs, int listenPort, PortInference ports,
      String gateway) {
    List<Route> out = new ArrayList<>();
    for (int i = 0; i < vs.http().size(); i++) {
      HttpRoute http = vs.http().get(i);
      String where = vs.id() + " http[" + i + "]";
      boolean catchAll = http.match().isEmpty();
      List<HttpMatch> matches = catchAll ? Collections.singletonList(null) : http.match();
      for (HttpMatch m : matches) {
        if (m != null && m.port() != 0 && m.port() != listenPort) continue;
        if (m != null && !forGateway(m.gateways(), vs.id().namespace(), gateway)) continue;
        if (m != null && !sourceMatches(view, m)) continue;
        Route r = translate(view, vs, http, m, listenPort, ports, where);
        if (r == null) continue;
        out.add(r);
        if (RouteMatches.isCatchAll(r)) {
          catchAll = true;
          break;
        }
      }
      if (catchAll) break;
    }
    return out;
  }

  /**
   * Whether a match with these {@code gateways} (as written in a VirtualService of {@code vsNamespace})
   * holds at {@code gateway}: unset holds everywhere the VirtualService is bound.
   */
  static boolean forGateway(List<String> gateways, String vsNamespace, String gateway) {
    if (gateways.isEmpty()) return true;
    for (String g : gateways) {
      if (Hosts.gatewayKey(g, vsNamespace).equals(gateway)) return true;
    }
    return false;
  }

  /** Istio's default outbound route for a service without a VirtualService (BuildDefaultHTTPOutboundRoute). */
  static Route defaultRoute(ProxyView view, String host, int port) {
    RouteAction.Builder action = noTimeout(RouteAction.newBuilder()
        .setCluster(ClusterName.outbound(port, "", host).toString()))
        .setRetryPolicy(Retries.defaults(false));
    RouteAction.HashPolicy hash = hashPolicy(consistentHash(view.destinationRule(host), port, ""));
    if (hash != null) action.addHashPolicy(hash);
    return Route.newBuilder().setName("default").setMatch(RouteMatch.newBuilder().setPrefix("/"))
        .setRoute(action).build();
  }

  /** A route to a fixed cluster with no timeout: the ALLOW_ANY passthrough. */
  static Route passthrough(String name, String cluster) {
    return Route.newBuilder().setName(name).setMatch(RouteMatch.newBuilder().setPrefix("/"))
        .setRoute(noTimeout(RouteAction.newBuilder().setCluster(cluster))).build();
  }

  /**
   * Istio's inbound default route (BuildDefaultHTTPInboundRoute): no timeout, the gRPC timeout
   * header honoured as sent, and a retry only for requests reset before they reached the app.
   */
  static Route inbound(String cluster) {
    return Route.newBuilder().setName("default").setMatch(RouteMatch.newBuilder().setPrefix("/"))
        .setRoute(RouteAction.newBuilder().setCluster(cluster)
            .setTimeout(Protos.ZERO)
            .setMaxStreamDuration(RouteAction.MaxStreamDuration.newBuilder()
                .setMaxStreamDuration(Protos.ZERO).setGrpcTimeoutHeaderMax(Protos.ZERO))
            .setRetryPolicy(RetryPolicy.newBuilder().setRetryOn("reset-before-request")
                .setNumRetries(UInt32Value.of(Retries.DEFAULT_RETRIES))))
        .build();
  }

  @SuppressWarnings("deprecation")
  private static RouteAction.Builder noTimeout(RouteAction.Builder action) {
    // Istio keeps the deprecated max_grpc_timeout: its replacement behaves differently for timeouts.
    return action.setTimeout(Protos.ZERO).setMaxGrpcTimeout(Protos.ZERO);
  }

  private static boolean sourceMatches(ProxyView view, HttpMatch m) {
    if (!Labels.matches(m.sourceLabels(), view.proxy().labels())) return false;
    return m.sourceNamespace() == null || m.sourceNamespace().isEmpty()
        || m.sourceNamespace().equals(view.proxy().namespace());
  }

  private static Route translate(ProxyView view, VirtualService vs, HttpRoute http, HttpMatch m, int listenPort,
      PortInference ports, String where) {
    String name = http.name() == null ? "" : http.name();
    if (m != null && m.name() != null && !m.name().isEmpty()) name = name + "." + m.name();
    Route.Builder route = Route.newBuilder().setName(name).setMatch(RouteMatches.of(m));
    RouteAction.Builder action = null;
    if (http.redirect() != null) {
      route.setRedirect(RouteActions.redirect(http.redirect(), listenPort));
    } else if (http.directResponse() != null) {
      route.setDirectResponse(RouteActions.directResponse(http.directResponse()));
    } else {
      action = action(view, vs, http, listenPort, ports, where);
      if (action == null) return null;
    }
    RouteActions.headers(route, action, http.headers());
    // A lone destination's header operations go on the route too, after the route's own (as Istio orders them).
    if (action != null && action.hasCluster()) RouteActions.headers(route, action, loneDestinationHeaders(http));
    if (action != null) route.setRoute(action);
    if (http.fault() != null) {
      HTTPFault fault = Faults.of(http.fault());
      if (fault != null) route.putTypedPerFilterConfig(WellKnown.FAULT, Any.pack(fault));
    }
    if (http.cors() != null) route.putTypedPerFilterConfig(WellKnown.CORS, Any.pack(RouteActions.cors(http.cors())));
    return route.build();
  }

  private static weft.model.VirtualService.Headers loneDestinationHeaders(HttpRoute http) {
    List<RouteDestination> live = http.route().stream().filter(d -> d.weight() > 0 || http.route().size() == 1)
        .toList();
    return live.size() == 1 ? live.get(0).headers() : null;
  }

  @SuppressWarnings("deprecation")
  private static RouteAction.Builder action(ProxyView view, VirtualService vs, HttpRoute http, int listenPort,
      PortInference ports, String where) {
    List<RouteDestination> dests = new ArrayList<>();
    for (RouteDestination d : http.route()) {
      // Istio ignores zero-weight destinations when there are others.
      if (d.weight() > 0 || http.route().size() == 1) dests.add(d);
    }
    if (dests.isEmpty()) {
      view.drop(where, "every destination has weight 0; route skipped");
      return null;
    }
    String ns = vs.id().namespace();
    RouteAction.Builder action = RouteAction.newBuilder();
    java.time.Duration timeout = http.timeout() == null ? java.time.Duration.ZERO : http.timeout();
    // timeout 0 disables Envoy's 15 s default, as Istio does; the gRPC timeout header is capped by it.
    action.setTimeout(Protos.duration(timeout)).setMaxGrpcTimeout(Protos.duration(timeout));
    boolean consistentHash = false;
    if (dests.size() == 1) {
      Destination d = destination(view, dests.get(0), ns, listenPort, ports);
      action.setCluster(d.cluster);
      if (d.hash != null) {
        action.addHashPolicy(d.hash);
        consistentHash = true;
      }
    } else {
      WeightedCluster.Builder wc = WeightedCluster.newBuilder();
      for (RouteDestination rd : dests) {
        Destination d = destination(view, rd, ns, listenPort, ports);
        WeightedCluster.ClusterWeight.Builder cw = WeightedCluster.ClusterWeight.newBuilder().setName(d.cluster)
            .setWeight(UInt32Value.of(rd.weight()));
        RouteActions.headers(cw, rd.headers());
        wc.addClusters(cw);
        if (d.hash != null) action.addHashPolicy(d.hash);
      }
      action.setWeightedClusters(wc);
    }
    if (http.rewrite() != null) {
      if (http.rewrite().uri() != null && !http.rewrite().uri().isEmpty()) {
        action.setPrefixRewrite(http.rewrite().uri());
      }
      if (http.rewrite().authority() != null && !http.rewrite().authority().isEmpty()) {
        action.setHostRewriteLiteral(http.rewrite().authority());
      }
    }
    RetryPolicy retry = Retries.convert(http.retries(), consistentHash);
    if (retry != null) action.setRetryPolicy(retry);
    for (VirtualService.Mirror mirror : http.mirrors()) {
      // Istio leaves out a mirror of 0 %: it would only cost a runtime lookup per request.
      if (mirror.percentage() <= 0) continue;
      Destination md = destination(view, new RouteDestination(mirror.destination(), 0), ns, listenPort, ports);
      action.addRequestMirrorPolicies(RouteActions.mirror(md.cluster, mirror.percentage()));
    }
    return action;
  }

  private record Destination(String cluster, RouteAction.HashPolicy hash) {}

  /** Istio's GetDestinationCluster port rule, plus the hash policy the destination's DestinationRule asks for. */
  private static Destination destination(ProxyView view, RouteDestination rd, String ns, int listenPort,
      PortInference ports) {
    VirtualService.Destination d = rd.destination();
    String host = Hosts.resolve(d.host(), ns);
    int port = d.port();
    if (port == 0) {
      port = listenPort;
      if (ports == PortInference.SINGLE_SERVICE_PORT) {
        ServiceView s = view.snapshot().service(host);
        if (s != null && s.service().exportedTo(view.proxy().namespace()) && s.service().ports().size() == 1) {
          port = s.service().ports().get(0).number();
        }
      }
    }
    String subset = d.subset() == null ? "" : d.subset();
    DestinationRule.ConsistentHash ch = consistentHash(view.destinationRule(host), d.port(), subset);
    return new Destination(ClusterName.outbound(port, subset, host).toString(), hashPolicy(ch));
  }

  /** Istio's hashForHTTPDestination: port-level settings count only when the destination names its port. */
  private static DestinationRule.ConsistentHash consistentHash(DestinationRule dr, int explicitPort, String subset) {
    DestinationRule.LoadBalancer lb = TrafficPolicies.pick(dr, explicitPort, subset,
        DestinationRule.TrafficPolicy::loadBalancer);
    return lb == null ? null : lb.consistentHash();
  }

  private static RouteAction.HashPolicy hashPolicy(DestinationRule.ConsistentHash ch) {
    if (ch == null) return null;
    RouteAction.HashPolicy.Builder h = RouteAction.HashPolicy.newBuilder();
    if (ch.httpHeaderName() != null) {
      h.setHeader(RouteAction.HashPolicy.Header.newBuilder().setHeaderName(ch.httpHeaderName()));
    } else if (ch.httpCookieName() != null) {
      h.setCookie(RouteAction.HashPolicy.Cookie.newBuilder().setName(ch.httpCookieName()));
    } else if (ch.useSourceIp()) {
      h.setConnectionProperties(RouteAction.HashPolicy.ConnectionProperties.newBuilder().setSourceIp(true));
    } else if (ch.httpQueryParameterName() != null) {
      h.setQueryParameter(RouteAction.HashPolicy.QueryParameter.newBuilder().setName(ch.httpQueryParameterName()));
    } else {
      return null;
    }
    return h.build();
  }

}
