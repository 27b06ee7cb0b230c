package weft.xds.envoygen;

import com.google.protobuf.Any;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.core.v3.BindConfig;
import io.envoyproxy.envoy.config.core.v3.Http1ProtocolOptions;
import io.envoyproxy.envoy.config.core.v3.Http2ProtocolOptions;
import io.envoyproxy.envoy.config.core.v3.HttpProtocolOptions;
import io.envoyproxy.envoy.config.core.v3.SocketAddress;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import weft.registry.ServiceView;
import weft.xds.Generated;
import weft.xds.view.PartCache;
import weft.xds.view.ProxyView;
import weft.xds.view.PushContext;

/**
 * Clusters for Envoy proxies (Istio's cluster.go): outbound clusters of every visible service and
 * DestinationRule subset, the fixed BlackHole and Passthrough clusters, and on a sidecar the inbound
 * clusters of its own workload. Outbound clusters originate Istio mTLS where the DestinationRule or
 * auto mTLS says so, except on a router for the services its AUTO_PASSTHROUGH servers forward: those
 * connections already carry the client's mTLS to the workload.
 */
public final class EnvoyClusters {
  /** Istio's maxSecondsValue: original-destination inbound hosts are never cleaned up. */
  private static final long NEVER_SECONDS = 9_223_372_035L;
  /** Istio's idle timeout for passthrough connections. */
  private static final java.time.Duration PASSTHROUGH_IDLE = java.time.Duration.ofMinutes(5);

  private EnvoyClusters() {}

  /** Every cluster for this proxy, sorted by name. */
  public static SortedMap<String, Any> all(ProxyView view) {
    SortedMap<String, Any> out = new TreeMap<>();
    generated(view).forEach((name, g) -> out.put(name, g.resource()));
    return out;
  }

  /** The fixed clusters, the same for every proxy: serialized once. */
  private static final Generated BLACK_HOLE = Generated.of(Any.pack(blackHole()));
  private static final Generated PASSTHROUGH = Generated.of(Any.pack(passthrough(WellKnown.PASSTHROUGH_CLUSTER).build()));
  private static final Generated INBOUND_PASSTHROUGH = Generated.of(Any.pack(
      passthrough(WellKnown.INBOUND_PASSTHROUGH_CLUSTER).setUpstreamBindConfig(inboundBind()).build()));

  /**
   * Every cluster for this proxy, ready to send: the outbound clusters of each visible service
   * come from the context's shared parts (one generation per service and {@link OutboundClusters.Key});
   * only the inbound clusters of the proxy's own workload are its own.
   */
  public static SortedMap<String, Generated> generated(ProxyView view) {
    boolean router = "router".equals(view.proxy().kind());
    // A router's clusters read its own workload (the ports its gateway servers listen on), which
    // no shared key holds; routers are few, so theirs are gathered for each alone.
    SortedMap<String, Generated> out = new TreeMap<>(router ? outbound(view)
        : view.meshWidePart("envoy-outbound-clusters", null, EnvoyClusters::outbound));
    out.put(WellKnown.BLACK_HOLE_CLUSTER, BLACK_HOLE);
    out.put(WellKnown.PASSTHROUGH_CLUSTER, PASSTHROUGH);
    if (!router) {
      out.put(WellKnown.INBOUND_PASSTHROUGH_CLUSTER, INBOUND_PASSTHROUGH);
      for (Inbound.Port p : Inbound.ports(view)) out.put(p.cluster(), Generated.of(Any.pack(inbound(view, p))));
    }
    return out;
  }

  /**
   * The outbound clusters of every visible service: the same for every proxy with an equal
   * {@link ProxyView.MeshWideKey}, so a full-mesh sidecar's thousand are gathered once per snapshot.
   */
  private static SortedMap<String, Generated> outbound(ProxyView view) {
    boolean router = "router".equals(view.proxy().kind());
    SortedMap<String, Generated> out = new TreeMap<>();
    java.util.Set<String> passthrough = router ? GatewayListeners.autoPassthroughHosts(view) : java.util.Set.of();
    PushContext context = view.context();
    for (ServiceView sv : Visible.services(view)) {
      String host = sv.service().hostname();
      OutboundClusters.Key key = OutboundClusters.key(view, sv, router, !passthrough.contains(host));
      PartCache.Part<Map<String, Generated>> part = context.parts().forHost(context.snapshot(), sv, key, () -> {
        List<PartCache.Drop> drops = new ArrayList<>();
        Map<String, Generated> packed = new TreeMap<>();
        OutboundClusters.of(context, sv, key, (s, r) -> drops.add(new PartCache.Drop(s, r)))
            .forEach((name, c) -> packed.put(name, Generated.of(Any.pack(c))));
        return new PartCache.Part<>(Collections.unmodifiableMap(packed), drops);
      });
      part.replay(view);
      out.putAll(part.value());
    }
    return Collections.unmodifiableSortedMap(out);
  }


  /** Where routes to nothing go: a static cluster without endpoints. */
  private static Cluster blackHole() {
    return Cluster.newBuilder()
        .setName(WellKnown.BLACK_HOLE_CLUSTER)
        .setType(Cluster.DiscoveryType.STATIC)
        .setConnectTimeout(Protos.duration(WellKnown.CONNECT_TIMEOUT))
        .setLbPolicy(Cluster.LbPolicy.ROUND_ROBIN)
        .build();
  }

  /** Forwards to the connection's original destination, speaking whatever HTTP version the client spoke. */
  private static Cluster.Builder passthrough(String name) {
    io.envoyproxy.envoy.extensions.upstreams.http.v3.HttpProtocolOptions options =
        io.envoyproxy.envoy.extensions.upstreams.http.v3.HttpProtocolOptions.newBuilder()
            .setCommonHttpProtocolOptions(HttpProtocolOptions.newBuilder()
                .setIdleTimeout(Protos.duration(PASSTHROUGH_IDLE)))
            .setUseDownstreamProtocolConfig(
                io.envoyproxy.envoy.extensions.upstreams.http.v3.HttpProtocolOptions.UseDownstreamHttpConfig.newBuilder()
                    .setHttpProtocolOptions(Http1ProtocolOptions.getDefaultInstance())
                    .setHttp2ProtocolOptions(Http2ProtocolOptions.getDefaultInstance()))
            .build();
    Cluster.Builder c = Cluster.newBuilder()
        .setName(name)
        .setType(Cluster.DiscoveryType.ORIGINAL_DST)
        .setConnectTimeout(Protos.duration(WellKnown.CONNECT_TIMEOUT))
        .setLbPolicy(Cluster.LbPolicy.CLUSTER_PROVIDED)
        .putTypedExtensionProtocolOptions(WellKnown.HTTP_PROTOCOL_OPTIONS, Any.pack(options));
    ClusterPolicies.connectionPool(c, null);
    return c;
  }

  /**
   * Istio ≥ 1.10 (inboundTrafficPolicy PASSTHROUGH, the default): inbound traffic goes to the pod IP it
   * was sent to, not to localhost, so the cluster is ORIGINAL_DST from the 127.0.0.6 source address
   * iptables lets through. A Sidecar ingress {@code defaultEndpoint} makes it a static cluster to
   * that endpoint instead (Istio's buildInboundClustersFromSidecar). The Sidecar's connection pool for
   * the port (ingress {@code connectionPool}, else {@code inboundConnectionPool}) sets its limits.
   */
  private static Cluster inbound(ProxyView view, Inbound.Port p) {
    Cluster.Builder c = Cluster.newBuilder()
        .setName(p.cluster())
        .setConnectTimeout(Protos.duration(WellKnown.CONNECT_TIMEOUT))
        .setCommonLbConfig(Cluster.CommonLbConfig.getDefaultInstance());
    io.envoyproxy.envoy.config.core.v3.Address endpoint = p.ingress() == null ? null
        : InboundEndpoints.address(p.ingress().defaultEndpoint(), view.proxy().ip());
    if (endpoint == null) {
      c.setType(Cluster.DiscoveryType.ORIGINAL_DST)
          .setLbPolicy(Cluster.LbPolicy.CLUSTER_PROVIDED)
          .setCleanupInterval(com.google.protobuf.Duration.newBuilder().setSeconds(NEVER_SECONDS))
          .setUpstreamBindConfig(inboundBind());
    } else {
      c.setType(Cluster.DiscoveryType.STATIC)
          .setLbPolicy(Cluster.LbPolicy.ROUND_ROBIN)
          .setLoadAssignment(io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment.newBuilder()
              .setClusterName(p.cluster())
              .addEndpoints(io.envoyproxy.envoy.config.endpoint.v3.LocalityLbEndpoints.newBuilder()
                  .addLbEndpoints(io.envoyproxy.envoy.config.endpoint.v3.LbEndpoint.newBuilder()
                      .setEndpoint(io.envoyproxy.envoy.config.endpoint.v3.Endpoint.newBuilder().setAddress(endpoint)))));
      // iptables would send the proxy's own connections to the pod IP back to it without the magic source.
      if (InboundEndpoints.needsPassthroughSource(endpoint)) c.setUpstreamBindConfig(inboundBind());
    }
    weft.model.DestinationRule.ConnectionPool pool = view.sidecar() == null ? null
        : view.sidecar().inboundConnectionPool(p.number());
    ClusterPolicies.connectionPool(c, pool);
    ClusterPolicies.httpOptions(c, Protocols.isHttp2(p.protocol()), p.http() ? pool : null);
    return c.build();
  }

  private static BindConfig inboundBind() {
    return BindConfig.newBuilder()
        .setSourceAddress(SocketAddress.newBuilder().setAddress(WellKnown.INBOUND_BIND_IPV4).setPortValue(0))
        .build();
  }
}
