package weft.xds.grpcgen;

import com.google.protobuf.Any;
import io.envoyproxy.envoy.config.core.v3.Address;
import io.envoyproxy.envoy.config.core.v3.SocketAddress;
import io.envoyproxy.envoy.config.core.v3.TrafficDirection;
import io.envoyproxy.envoy.config.listener.v3.ApiListener;
import io.envoyproxy.envoy.config.listener.v3.Filter;
import io.envoyproxy.envoy.config.listener.v3.FilterChain;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.route.v3.NonForwardingAction;
import io.envoyproxy.envoy.config.route.v3.Route;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.config.route.v3.RouteMatch;
import io.envoyproxy.envoy.config.route.v3.VirtualHost;
import io.envoyproxy.envoy.extensions.filters.http.fault.v3.HTTPFault;
import io.envoyproxy.envoy.extensions.filters.http.router.v3.Router;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.Rds;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext;
import weft.registry.ServiceView;
import weft.xds.security.Rbac;
import weft.xds.security.ServerMtls;
import weft.xds.security.TlsContexts;
import weft.xds.view.ProxyView;

/**
 * Listeners for proxyless gRPC, as Istio names them: a client's {@code HOST:PORT} (an API listener
 * whose routes come by RDS under the same name) and a server's
 * {@code xds.istio.io/grpc/lds/inbound/IP:PORT}. A server listener carries the workload's mutual TLS
 * (PeerAuthentication) on its one filter chain and its AuthorizationPolicies as RBAC filters
 * before the router; grpc-java rejects listener filters and matches chains on addresses and ports
 * only, so one chain is all it can use.
 */
public final class GrpcListeners {
  public static final String INBOUND_PREFIX = "xds.istio.io/grpc/lds/inbound/";
  static final String FAULT_FILTER = "envoy.filters.http.fault";
  static final String ROUTER_FILTER = "envoy.filters.http.router";
  static final String HCM_FILTER = "envoy.filters.network.http_connection_manager";

  private GrpcListeners() {}

  /** The listener with this name, or null (with the reason recorded in the view). */
  public static Any generate(ProxyView view, String name) {
    Listener listener = name.startsWith(INBOUND_PREFIX) ? inbound(view, name) : outbound(view, name);
    return listener == null ? null : Any.pack(listener);
  }

  private static Listener outbound(ProxyView view, String name) {
    HostPort target = HostPort.parse(name);
    if (target == null) {
      view.drop(name, "listener name is not HOST:PORT");
      return null;
    }
    ServiceView service = view.service(target.host());
    if (service == null) return null;
    if (target.port() != 0 && service.service().port(target.port()).isEmpty()) {
      view.drop(name, "service " + target.host() + " has no port " + target.port());
      return null;
    }
    HttpConnectionManager hcm = HttpConnectionManager.newBuilder()
        .setStatPrefix(name)
        .setRds(Rds.newBuilder().setConfigSource(ProtoBuilders.ads()).setRouteConfigName(name))
        // The fault filter is always present so that a VirtualService fault, added later, is a route change only.
        .addHttpFilters(HttpFilter.newBuilder().setName(FAULT_FILTER).setTypedConfig(Any.pack(HTTPFault.getDefaultInstance())))
        .addHttpFilters(router())
        .build();
    return Listener.newBuilder()
        .setName(name)
        .setApiListener(ApiListener.newBuilder().setApiListener(Any.pack(hcm)))
        .build();
  }

  /** A server listener: grpc-java checks that its address is the one the server listens on. */
  private static Listener inbound(ProxyView view, String name) {
    HostPort local = HostPort.parse(name.substring(INBOUND_PREFIX.length()));
    if (local == null || local.port() == 0) {
      view.drop(name, "inbound listener name must end in IP:PORT");
      return null;
    }
    String routeName = "inbound|" + local.port() + "||";
    RouteConfiguration routes = RouteConfiguration.newBuilder()
        .setName(routeName)
        .addVirtualHosts(VirtualHost.newBuilder()
            .setName("inbound|http|" + local.port())
            .addDomains("*")
            .addRoutes(Route.newBuilder()
                .setMatch(RouteMatch.newBuilder().setPrefix("/"))
                .setNonForwardingAction(NonForwardingAction.getDefaultInstance())))
        .build();
    if (!weft.xds.authn.JwtAuthn.rules(view).isEmpty()) {
      // grpc-java has no JWT filter: tokens reach the application unchecked, and the RBAC rules that
      // need them cannot match (Rbac records each); say so once per listener.
      view.drop(name + " RequestAuthentication", "RequestAuthentication applies to this proxyless server, but grpc-java cannot verify JWTs: "
          + "tokens are not checked here, and AuthorizationPolicy rules on request principals or request.auth.* "
          + "fail closed (ALLOW rules needing them allow nothing, DENY rules deny more)");
    }
    HttpConnectionManager hcm = HttpConnectionManager.newBuilder()
        .setStatPrefix(routeName)
        .setRouteConfig(routes)
        .addAllHttpFilters(Rbac.forWorkload(view, Rbac.Target.PROXYLESS).httpFilters())
        .addHttpFilters(router())
        .build();
    FilterChain.Builder chain = FilterChain.newBuilder()
        .setName(routeName)
        .addFilters(Filter.newBuilder().setName(HCM_FILTER).setTypedConfig(Any.pack(hcm)));
    DownstreamTlsContext tls = ServerMtls.proxyless(view, local.port(), name);
    if (tls != null) chain.setTransportSocket(TlsContexts.transportSocket(tls));
    return Listener.newBuilder()
        .setName(name)
        .setAddress(Address.newBuilder().setSocketAddress(
            SocketAddress.newBuilder().setAddress(local.host()).setPortValue(local.port())))
        .setTrafficDirection(TrafficDirection.INBOUND)
        .addFilterChains(chain)
        .build();
  }

  private static HttpFilter router() {
    return HttpFilter.newBuilder().setName(ROUTER_FILTER).setTypedConfig(Any.pack(Router.getDefaultInstance())).build();
  }
}
