package weft.xds.grpcgen;

import com.google.protobuf.Any;
import com.google.protobuf.UInt32Value;
import io.envoyproxy.envoy.config.route.v3.HeaderMatcher;
import io.envoyproxy.envoy.config.route.v3.RetryPolicy;
import io.envoyproxy.envoy.config.route.v3.Route;
import io.envoyproxy.envoy.config.route.v3.RouteAction;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.config.route.v3.RouteMatch;
import io.envoyproxy.envoy.config.route.v3.VirtualHost;
import io.envoyproxy.envoy.config.route.v3.WeightedCluster;
import io.envoyproxy.envoy.extensions.filters.http.fault.v3.FaultAbort;
import io.envoyproxy.envoy.extensions.filters.http.fault.v3.HTTPFault;
import io.envoyproxy.envoy.extensions.filters.common.fault.v3.FaultDelay;
import io.envoyproxy.envoy.type.matcher.v3.RegexMatcher;
import io.envoyproxy.envoy.type.matcher.v3.StringMatcher;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import weft.model.DestinationRule;
import weft.model.StringMatch;
import weft.model.VirtualService;
import weft.model.VirtualService.HttpMatch;
import weft.model.VirtualService.HttpRoute;
import weft.model.VirtualService.RouteDestination;
import weft.registry.ServiceView;
import weft.xds.ClusterName;
import weft.xds.view.Hosts;
import weft.xds.view.ProxyView;

/** Route configurations for proxyless clients: one per {@code HOST:PORT}, from the host's VirtualService. */
public final class GrpcRoutes {
  /** Istio's default retry conditions for gRPC when a VirtualService sets attempts without retryOn. */
  static final String DEFAULT_RETRY_ON = "connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes";

  private GrpcRoutes() {}

  /** The route configuration with this name ({@code HOST:PORT}), or null (with the reason recorded). */
  public static Any generate(ProxyView view, String name) {
    RouteConfiguration rc = routeConfiguration(view, name);
    return rc == null ? null : Any.pack(rc);
  }

  private static RouteConfiguration routeConfiguration(ProxyView view, String name) {
    HostPort target = HostPort.parse(name);
    if (target == null) return null;
    ServiceView service = view.service(target.host());
    if (service == null) return null;
    int port = target.port();
    if (port == 0) {
      if (service.service().ports().size() != 1) {
        view.drop(name, "no port given and " + target.host() + " has " + service.service().ports().size() + " ports");
        return null;
      }
      port = service.service().ports().get(0).number();
    }
    VirtualHost.Builder vh = VirtualHost.newBuilder().setName(name).addDomains(target.host())
        .addDomains(target.host() + ":" + port);
    VirtualService vs = view.virtualService(target.host());
    List<Route> routes = vs == null ? List.of() : routes(view, vs, target.host(), port);
    if (routes.isEmpty()) {
      vh.addRoutes(Route.newBuilder().setName("default")
          .setMatch(RouteMatch.newBuilder().setPrefix("/"))
          .setRoute(action(view, target.host(), ClusterName.outbound(port, "", target.host()).toString())));
    } else {
      vh.addAllRoutes(routes);
    }
    return RouteConfiguration.newBuilder().setName(name).addVirtualHosts(vh).build();
  }

  private static List<Route> routes(ProxyView view, VirtualService vs, String host, int port) {
    List<Route> out = new ArrayList<>();
    String ns = vs.id().namespace();
    for (int i = 0; i < vs.http().size(); i++) {
      HttpRoute http = vs.http().get(i);
      String routeName = http.name() != null ? http.name() : vs.id().name() + "/" + i;
      VirtualService.Fault fault = http.fault();
      RouteAction.Builder action;
      Integer answer = fixedAnswer(http);
      if (answer != null) {
        // grpc-java has no redirect or direct-response action (it NACKs them). A gRPC client behind Envoy
        // gets that HTTP status as an error; a fault abort with the same status gives it the same error.
        action = action(view, host, ClusterName.outbound(port, "", host).toString());
        fault = new VirtualService.Fault(null, new VirtualService.Fault.Abort(answer, null, 100.0));
        view.drop(vs.id() + " http[" + i + "]", (http.redirect() != null ? "redirect" : "directResponse")
            + ": proxyless gRPC clients get HTTP status " + answer + " as an error (UNKNOWN or the mapped gRPC "
            + "status), as behind Envoy; they cannot follow a redirect or read a body");
      } else {
        action = action(view, vs, http, host, port, ns, routeName);
      }
      if (action == null) continue;
      List<String> ignored = ignoredByGrpc(http);
      if (!ignored.isEmpty()) {
        view.drop(vs.id() + " http[" + i + "]", "proxyless gRPC clients ignore " + String.join(", ", ignored)
            + " of this route (grpc-java has no such route features); requests are routed without them");
      }
      List<HttpMatch> matches = http.match().isEmpty() ? java.util.Collections.singletonList(null) : http.match();
      for (HttpMatch m : matches) {
        if (m != null && m.port() != 0 && m.port() != port) continue;
        // A match limited to gateways that do not include the mesh is not for proxyless clients.
        if (m != null && !m.gateways().isEmpty() && m.gateways().stream().noneMatch("mesh"::equals)) continue;
        if (m != null && !m.queryParams().isEmpty()) {
          view.drop(routeName, "query parameter matches are not available to gRPC clients; route skipped");
          continue;
        }
        if (m != null && (!m.sourceLabels().isEmpty() || m.sourceNamespace() != null)
            && !sourceMatches(view, m)) {
          continue;
        }
        Route.Builder route = Route.newBuilder().setName(routeName).setMatch(match(m)).setRoute(action);
        if (fault != null) {
          route.putTypedPerFilterConfig(GrpcListeners.FAULT_FILTER, Any.pack(fault(fault)));
        }
        out.add(route.build());
      }
    }
    return out;
  }

  /** The HTTP status a redirect or direct response answers with, or null for a forwarding route. */
  private static Integer fixedAnswer(HttpRoute http) {
    if (http.redirect() != null) return http.redirect().code();
    if (http.directResponse() != null) return http.directResponse().status();
    return null;
  }

  /** Route settings grpc-java 1.85 does not act on (it reads no header operations, mirrors or CORS). */
  static List<String> ignoredByGrpc(HttpRoute http) {
    List<String> out = new ArrayList<>();
    boolean destinationHeaders = http.route().stream().anyMatch(d -> d.headers() != null);
    if (http.headers() != null || destinationHeaders) out.add("headers");
    if (http.cors() != null) out.add("corsPolicy");
    if (!http.mirrors().isEmpty()) out.add("mirror");
    if (http.rewrite() != null) out.add("rewrite");
    return out;
  }

  private static boolean sourceMatches(ProxyView view, HttpMatch m) {
    if (m.sourceNamespace() != null && !m.sourceNamespace().equals(view.proxy().namespace())) return false;
    return weft.model.Labels.matches(m.sourceLabels(), view.proxy().labels());
  }

  private static RouteAction.Builder action(ProxyView view, VirtualService vs, HttpRoute http, String host, int port,
      String ns, String routeName) {
    List<RouteDestination> dests = new ArrayList<>();
    for (RouteDestination d : http.route()) {
      if (d.weight() > 0 || http.route().size() == 1) dests.add(d);
    }
    if (dests.isEmpty()) {
      view.drop(routeName, "every destination of " + vs.id() + " has weight 0; route skipped");
      return null;
    }
    RouteAction.Builder action;
    if (dests.size() == 1) {
      String destHost = Hosts.resolve(dests.get(0).destination().host(), ns);
      action = action(view, destHost, clusterFor(view, dests.get(0), ns, host, port));
    } else {
      WeightedCluster.Builder wc = WeightedCluster.newBuilder();
      for (RouteDestination d : dests) {
        wc.addClusters(WeightedCluster.ClusterWeight.newBuilder()
            .setName(clusterFor(view, d, ns, host, port))
            .setWeight(UInt32Value.of(d.weight())));
      }
      action = RouteAction.newBuilder().setWeightedClusters(wc);
    }
    if (http.timeout() != null) {
      action.setMaxStreamDuration(RouteAction.MaxStreamDuration.newBuilder()
          .setMaxStreamDuration(ProtoBuilders.duration(http.timeout())));
    }
    if (http.retries() != null && http.retries().attempts() != null && http.retries().attempts() > 0) {
      RetryPolicy.Builder retry = RetryPolicy.newBuilder()
          .setRetryOn(http.retries().retryOn() != null ? http.retries().retryOn() : DEFAULT_RETRY_ON)
          .setNumRetries(UInt32Value.of(http.retries().attempts()));
      if (http.retries().perTryTimeout() != null) {
        retry.setPerTryTimeout(ProtoBuilders.duration(http.retries().perTryTimeout()));
      }
      action.setRetryPolicy(retry);
    }
    return action;
  }

  /** A plain cluster action, with the hash policy a consistent-hash DestinationRule asks for. */
  private static RouteAction.Builder action(ProxyView view, String destHost, String cluster) {
    RouteAction.Builder action = RouteAction.newBuilder().setCluster(cluster);
    DestinationRule dr = view.destinationRule(destHost);
    if (dr != null && dr.trafficPolicy() != null && dr.trafficPolicy().loadBalancer() != null
        && dr.trafficPolicy().loadBalancer().consistentHash() != null
        && dr.trafficPolicy().loadBalancer().consistentHash().httpHeaderName() != null) {
      action.addHashPolicy(RouteAction.HashPolicy.newBuilder().setHeader(RouteAction.HashPolicy.Header.newBuilder()
          .setHeaderName(dr.trafficPolicy().loadBalancer().consistentHash().httpHeaderName())));
    }
    return action;
  }

  /** Istio's port rule: the destination's port, else the only port of the destination service, else the caller's. */
  private static String clusterFor(ProxyView view, RouteDestination d, String ns, String host, int port) {
    String destHost = Hosts.resolve(d.destination().host(), ns);
    int destPort = d.destination().port();
    if (destPort == 0) {
      ServiceView dest = view.snapshot().service(destHost);
      destPort = dest != null && dest.service().ports().size() == 1 && !destHost.equals(host)
          ? dest.service().ports().get(0).number() : port;
    }
    return ClusterName.outbound(destPort, d.destination().subset(), destHost).toString();
  }

  private static RouteMatch match(HttpMatch m) {
    RouteMatch.Builder b = RouteMatch.newBuilder();
    if (m == null || m.uri() == null) {
      b.setPrefix("/");
    } else {
      StringMatch uri = m.uri();
      switch (uri.kind()) {
        case EXACT -> b.setPath(uri.value());
        case PREFIX -> b.setPrefix(uri.value());
        case REGEX -> b.setSafeRegex(RegexMatcher.newBuilder().setRegex(uri.value()));
      }
      if (m.ignoreUriCase()) b.setCaseSensitive(com.google.protobuf.BoolValue.of(false));
    }
    if (m == null) return b.build();
    for (Map.Entry<String, StringMatch> h : new TreeMap<>(m.headers()).entrySet()) {
      b.addHeaders(header(h.getKey(), h.getValue(), false));
    }
    for (Map.Entry<String, StringMatch> h : new TreeMap<>(m.withoutHeaders()).entrySet()) {
      b.addHeaders(header(h.getKey(), h.getValue(), true));
    }
    if (m.method() != null) b.addHeaders(header(":method", m.method(), false));
    if (m.authority() != null) b.addHeaders(header(":authority", m.authority(), false));
    return b.build();
  }

  private static HeaderMatcher header(String name, StringMatch match, boolean invert) {
    StringMatcher.Builder sm = StringMatcher.newBuilder();
    switch (match.kind()) {
      case EXACT -> sm.setExact(match.value());
      case PREFIX -> sm.setPrefix(match.value());
      case REGEX -> sm.setSafeRegex(RegexMatcher.newBuilder().setRegex(match.value()));
    }
    return HeaderMatcher.newBuilder().setName(name).setStringMatch(sm).setInvertMatch(invert).build();
  }

  private static HTTPFault fault(VirtualService.Fault fault) {
    HTTPFault.Builder f = HTTPFault.newBuilder();
    if (fault.delay() != null && fault.delay().fixedDelay() != null) {
      f.setDelay(FaultDelay.newBuilder()
          .setFixedDelay(ProtoBuilders.duration(fault.delay().fixedDelay()))
          .setPercentage(ProtoBuilders.percent(fault.delay().percentage())));
    }
    if (fault.abort() != null) {
      FaultAbort.Builder a = FaultAbort.newBuilder().setPercentage(ProtoBuilders.percent(fault.abort().percentage()));
      if (fault.abort().grpcStatus() != null) {
        a.setGrpcStatus(GrpcStatusCodes.code(fault.abort().grpcStatus()));
      } else {
        a.setHttpStatus(fault.abort().httpStatus());
      }
      f.setAbort(a);
    }
    return f.build();
  }
}
