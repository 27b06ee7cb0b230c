package weft.xds.envoygen;

import com.google.protobuf.Any;
import com.google.protobuf.BoolValue;
import io.envoyproxy.envoy.config.core.v3.Http2ProtocolOptions;
import io.envoyproxy.envoy.config.listener.v3.Filter;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.extensions.filters.http.cors.v3.Cors;
import io.envoyproxy.envoy.extensions.filters.http.fault.v3.HTTPFault;
import io.envoyproxy.envoy.extensions.filters.http.grpc_web.v3.GrpcWeb;
import io.envoyproxy.envoy.extensions.filters.http.router.v3.Router;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.Rds;

/**
 * HTTP connection managers as Istio's listener builder shapes them (buildHTTPConnectionManager):
 * automatic codec, websocket upgrades allowed, paths normalised but escaped slashes kept, no stream
 * idle timeout, and the fault filter always present so a VirtualService fault is a route change only.
 */
final class ConnectionManagers {
  private ConnectionManagers() {}

  /** Routes fetched by name over ADS: sidecar outbound ({@code PORT}) and gateway ({@code http.PORT}) listeners. */
  static Filter rds(String statPrefix, String routeName, boolean useRemoteAddress, boolean grpcWeb) {
    return rds(statPrefix, routeName, useRemoteAddress, grpcWeb, java.util.List.of());
  }

  /** With the workload's authentication and authorization filters first (a gateway's HTTP servers). */
  static Filter rds(String statPrefix, String routeName, boolean useRemoteAddress, boolean grpcWeb,
      java.util.List<HttpFilter> auth) {
    // Outbound and gateway routes may carry a VirtualService corsPolicy: the CORS filter reads it per route.
    HttpFilter cors = HttpFilter.newBuilder().setName(WellKnown.CORS).setTypedConfig(Any.pack(Cors.getDefaultInstance()))
        .build();
    java.util.List<HttpFilter> first = new java.util.ArrayList<>(auth);
    first.add(cors);
    HttpConnectionManager.Builder hcm = base(statPrefix, useRemoteAddress, grpcWeb, first)
        .setRds(Rds.newBuilder().setConfigSource(Protos.ads()).setRouteConfigName(routeName));
    return Protos.filter(WellKnown.HCM, hcm.build());
  }

  /** Inline routes: the sidecar's inbound chains, which Istio never sends over RDS. */
  static Filter inline(String statPrefix, RouteConfiguration routes, boolean http2) {
    return inline(statPrefix, routes, http2, java.util.List.of());
  }

  /** Inline routes with HTTP filters that run first (the workload's RBAC). */
  static Filter inline(String statPrefix, RouteConfiguration routes, boolean http2, java.util.List<HttpFilter> first) {
    HttpConnectionManager.Builder hcm = base(statPrefix, false, false, first).setRouteConfig(routes);
    // Istio accepts HTTP/2 downstream explicitly on HTTP2/gRPC inbound ports (for grpc-web gateways in front).
    if (http2) hcm.setHttp2ProtocolOptions(Http2ProtocolOptions.getDefaultInstance());
    return Protos.filter(WellKnown.HCM, hcm.build());
  }

  private static HttpConnectionManager.Builder base(String statPrefix, boolean useRemoteAddress, boolean grpcWeb,
      java.util.List<HttpFilter> first) {
    HttpConnectionManager.Builder hcm = HttpConnectionManager.newBuilder()
        .setStatPrefix(statPrefix)
        .setCodecType(HttpConnectionManager.CodecType.AUTO)
        .setNormalizePath(BoolValue.of(true))
        .setPathWithEscapedSlashesAction(HttpConnectionManager.PathWithEscapedSlashesAction.KEEP_UNCHANGED)
        // Gateways see the client's address; sidecars trust the local application's headers instead.
        .setUseRemoteAddress(BoolValue.of(useRemoteAddress))
        .addUpgradeConfigs(HttpConnectionManager.UpgradeConfig.newBuilder().setUpgradeType("websocket"))
        // Istio disables Envoy's 5-minute stream idle timeout: long-lived gRPC streams are normal in a mesh.
        .setStreamIdleTimeout(Protos.ZERO)
        .addAllHttpFilters(first);
    if (grpcWeb) {
      hcm.addHttpFilters(HttpFilter.newBuilder().setName(WellKnown.GRPC_WEB)
          .setTypedConfig(Any.pack(GrpcWeb.getDefaultInstance())));
    }
    hcm.addHttpFilters(HttpFilter.newBuilder().setName(WellKnown.FAULT)
        .setTypedConfig(Any.pack(HTTPFault.getDefaultInstance())));
    hcm.addHttpFilters(HttpFilter.newBuilder().setName(WellKnown.ROUTER)
        .setTypedConfig(Any.pack(Router.getDefaultInstance())));
    return hcm;
  }
}
