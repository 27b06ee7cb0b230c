package weft.xds.envoygen;

import static org.assertj.core.api.Assertions.assertThat;
import static weft.xds.envoygen.EnvoyMesh.unpack;

import com.google.protobuf.Any;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.endpoint.v3.LbEndpoint;
import io.envoyproxy.envoy.config.listener.v3.FilterChain;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.route.v3.Route;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.config.route.v3.VirtualHost;
import io.envoyproxy.envoy.extensions.filters.http.fault.v3.HTTPFault;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.envoyproxy.envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy;
import io.envoyproxy.envoy.extensions.upstreams.http.v3.HttpProtocolOptions;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import weft.xds.grpcgen.EndpointCache;
import weft.xds.view.ProxyView;

/** YAML in, Envoy xDS out: sidecar resources against Istio's conventions. */
class EnvoyGeneratorsTest {
  static final String REVIEWS = "reviews.default.svc.cluster.local";
  static final String RATINGS = "ratings.default.svc.cluster.local";

  /** reviews (HTTP, 3 pods: v1, v2, unready v2), ratings (TCP), a vault service for its own namespace only, and productpage (the proxy). */
  static final String MESH = """
      apiVersion: v1
      kind: Service
      metadata: {name: reviews, namespace: default}
      spec:
        clusterIP: 10.96.0.10
        ports: [{name: http, port: 9080}]
      ---
      apiVersion: discovery.k8s.io/v1
      kind: EndpointSlice
      metadata: {name: reviews-1, namespace: default, labels: {kubernetes.io/service-name: reviews}}
      addressType: IPv4
      ports: [{name: http, port: 9080}]
      endpoints:
      - addresses: ["10.1.0.1"]
        zone: zone-a
      - addresses: ["10.1.0.2"]
        zone: zone-b
      - addresses: ["10.1.0.3"]
        zone: zone-b
        conditions: {ready: false}
      ---
      apiVersion: v1
      kind: Pod
      metadata: {name: r1, namespace: default, labels: {app: reviews, version: v1}}
      status: {podIP: 10.1.0.1, phase: Running}
      ---
      apiVersion: v1
      kind: Pod
      metadata: {name: r2, namespace: default, labels: {app: reviews, version: v2}}
      status: {podIP: 10.1.0.2, phase: Running}
      ---
      apiVersion: v1
      kind: Pod
      metadata: {name: r3, namespace: default, labels: {app: reviews, version: v2}}
      status: {podIP: 10.1.0.3, phase: Running}
      ---
      apiVersion: v1
      kind: Service
      metadata: {name: ratings, namespace: default}
      spec:
        clusterIP: 10.96.0.20
        ports: [{name: tcp-mysql, port: 3306}]
      ---
      apiVersion: discovery.k8s.io/v1
      kind: EndpointSlice
      metadata: {name: ratings-1, namespace: default, labels: {kubernetes.io/service-name: ratings}}
      addressType: IPv4
      ports: [{name: tcp-mysql, port: 3306}]
      endpoints:
      - addresses: ["10.1.1.1"]
      ---
      apiVersion: v1
      kind: Service
      metadata:
        name: secret
        namespace: vault
        annotations: {networking.istio.io/exportTo: "."}
      spec:
        clusterIP: 10.96.0.30
        ports: [{name: http, port: 9080}]
      ---
      apiVersion: v1
      kind: Service
      metadata: {name: productpage, namespace: default}
      spec:
        clusterIP: 10.96.0.40
        ports: [{name: http, port: 9080, targetPort: 9081}]
      ---
      apiVersion: discovery.k8s.io/v1
      kind: EndpointSlice
      metadata: {name: productpage-1, namespace: default, labels: {kubernetes.io/service-name: productpage}}
      addressType: IPv4
      ports: [{name: http, port: 9081}]
      endpoints:
      - addresses: ["10.1.2.1"]
      ---
      apiVersion: v1
      kind: Pod
      metadata: {name: productpage-1, namespace: default, labels: {app: productpage}}
      status: {podIP: 10.1.2.1, phase: Running}
      ---
      """;

  static final String REVIEWS_RULES = """
      apiVersion: networking.istio.io/v1
      kind: VirtualService
      metadata: {name: reviews, namespace: default}
      spec:
        hosts: [reviews]
        http:
        - name: jason
          match:
          - headers: {end-user: {exact: jason}}
          route:
          - destination: {host: reviews, subset: v2}
          fault:
            abort: {httpStatus: 503, percentage: {value: 10}}
        - route:
          - destination: {host: reviews, subset: v1}
            weight: 80
          - destination: {host: reviews, subset: v2}
            weight: 20
          timeout: 3s
      ---
      apiVersion: networking.istio.io/v1
      kind: DestinationRule
      metadata: {name: reviews, namespace: default}
      spec:
        host: reviews
        trafficPolicy:
          loadBalancer: {simple: ROUND_ROBIN}
          connectionPool:
            tcp: {maxConnections: 100, connectTimeout: 2s}
            http: {http1MaxPendingRequests: 10, http2MaxRequests: 1000, maxRetries: 3}
          outlierDetection: {consecutive5xxErrors: 5, interval: 10s, baseEjectionTime: 30s, maxEjectionPercent: 50}
        subsets:
        - name: v1
          labels: {version: v1}
        - name: v2
          labels: {version: v2}
          trafficPolicy:
            loadBalancer: {simple: RANDOM}
      """;

  EnvoyMesh mesh;

  @AfterEach
  void stop() {
    if (mesh != null) mesh.close();
  }

  ProxyView productpage(String yaml) {
    mesh = new EnvoyMesh(yaml);
    return mesh.sidecar("default", "10.1.2.1", Map.of("app", "productpage"));
  }

  @Test
  void httpPortSharesOneNonBindingListenerThatFetchesRoutesNamedByThePort() {
    ProxyView view = productpage(MESH);
    SortedMap<String, Any> listeners = EnvoyListeners.all(view);
    assertThat(listeners).containsKeys("virtualOutbound", "virtualInbound", "0.0.0.0_9080", "10.96.0.20_3306");
    Listener l = unpack(listeners.get("0.0.0.0_9080"), Listener.class);
    assertThat(l.getBindToPort().getValue()).isFalse();
    assertThat(l.getAddress().getSocketAddress().getPortValue()).isEqualTo(9080);
    assertThat(l.getListenerFiltersList()).extracting(f -> f.getName())
        .containsExactly("envoy.filters.listener.tls_inspector", "envoy.filters.listener.http_inspector");
    FilterChain http = l.getFilterChains(0);
    assertThat(http.getFilterChainMatch().getApplicationProtocolsList()).containsExactly("http/1.1", "h2c");
    HttpConnectionManager hcm = unpack(http.getFilters(0).getTypedConfig(), HttpConnectionManager.class);
    assertThat(hcm.getRds().getRouteConfigName()).isEqualTo("9080");
    assertThat(hcm.getRds().getConfigSource().hasAds()).isTrue();
    assertThat(hcm.getHttpFiltersList()).extracting(f -> f.getName())
        .containsExactly("envoy.filters.http.cors", "envoy.filters.http.fault", "envoy.filters.http.router");
    assertThat(unpack(l.getDefaultFilterChain().getFilters(0).getTypedConfig(), TcpProxy.class).getCluster())
        .isEqualTo("PassthroughCluster");
  }

  @Test
  void virtualOutboundPassesUnknownTrafficThroughAndBlackholesItself() {
    Listener l = unpack(EnvoyListeners.all(productpage(MESH)).get("virtualOutbound"), Listener.class);
    assertThat(l.getAddress().getSocketAddress().getPortValue()).isEqualTo(15001);
    assertThat(l.getUseOriginalDst().getValue()).isTrue();
    assertThat(l.getFilterChainsList()).extracting(c -> c.getName() + "->"
            + unpack(c.getFilters(0).getTypedConfig(), TcpProxy.class).getCluster())
        .containsExactly("virtualOutbound-blackhole->BlackHoleCluster", "virtualOutbound-catchall-tcp->PassthroughCluster");
  }

  @Test
  void virtualHostCarriesIstioDomainsAndVirtualServiceRoutes() {
    ProxyView view = productpage(MESH + REVIEWS_RULES);
    RouteConfiguration rc = unpack(EnvoyRoutes.generate(view, "9080"), RouteConfiguration.class);
    assertThat(rc.getVirtualHostsList()).extracting(VirtualHost::getName)
        .containsExactly("productpage.default.svc.cluster.local:9080", REVIEWS + ":9080", "allow_any");
    VirtualHost reviews = rc.getVirtualHosts(1);
    assertThat(reviews.getDomainsList()).containsExactly(REVIEWS, REVIEWS + ":9080", "reviews", "reviews:9080",
        "reviews.default.svc", "reviews.default.svc:9080", "reviews.default", "reviews.default:9080",
        "10.96.0.10", "10.96.0.10:9080");
    List<Route> routes = reviews.getRoutesList();
    assertThat(routes).hasSize(2);
    Route jason = routes.get(0);
    assertThat(jason.getName()).isEqualTo("jason");
    assertThat(jason.getMatch().getHeaders(0).getName()).isEqualTo("end-user");
    assertThat(jason.getMatch().getHeaders(0).getStringMatch().getExact()).isEqualTo("jason");
    assertThat(jason.getRoute().getCluster()).isEqualTo("outbound|9080|v2|" + REVIEWS);
    HTTPFault fault = unpack(jason.getTypedPerFilterConfigOrThrow("envoy.filters.http.fault"), HTTPFault.class);
    assertThat(fault.getAbort().getHttpStatus()).isEqualTo(503);
    assertThat(fault.getAbort().getPercentage().getNumerator()).isEqualTo(100_000);
    assertThat(jason.getRoute().getTimeout().getSeconds()).as("Istio disables Envoy's default timeout").isZero();
    assertThat(jason.getRoute().getRetryPolicy().getNumRetries().getValue()).isEqualTo(2);
    assertThat(jason.getRoute().getRetryPolicy().getRetryOn())
        .isEqualTo("connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes");
    assertThat(jason.getRoute().getRetryPolicy().getRetriableStatusCodesList()).containsExactly(503);
    Route split = routes.get(1);
    assertThat(split.getRoute().getWeightedClusters().getClustersList())
        .extracting(c -> c.getName() + "=" + c.getWeight().getValue())
        .containsExactly("outbound|9080|v1|" + REVIEWS + "=80", "outbound|9080|v2|" + REVIEWS + "=20");
    assertThat(split.getRoute().getTimeout().getSeconds()).isEqualTo(3);
    VirtualHost allowAny = rc.getVirtualHosts(2);
    assertThat(allowAny.getDomainsList()).containsExactly("*");
    assertThat(allowAny.getRoutes(0).getRoute().getCluster()).isEqualTo("PassthroughCluster");
  }

  @Test
  void serviceWithoutVirtualServiceGetsTheDefaultRouteWithIstioRetries() {
    RouteConfiguration rc = unpack(EnvoyRoutes.generate(productpage(MESH), "9080"), RouteConfiguration.class);
    Route r = rc.getVirtualHosts(1).getRoutes(0);
    assertThat(r.getName()).isEqualTo("default");
    assertThat(r.getMatch().getPrefix()).isEqualTo("/");
    assertThat(r.getRoute().getCluster()).isEqualTo("outbound|9080||" + REVIEWS);
    assertThat(r.getRoute().getRetryPolicy().getRetryHostPredicate(0).getName())
        .isEqualTo("envoy.retry_host_predicates.previous_hosts");
    assertThat(r.getRoute().getRetryPolicy().getHostSelectionRetryMaxAttempts()).isEqualTo(5);
  }

  @Test
  void destinationRuleShapesOutboundAndSubsetClusters() {
    SortedMap<String, Any> clusters = EnvoyClusters.all(productpage(MESH + REVIEWS_RULES));
    assertThat(clusters).containsKeys("outbound|9080||" + REVIEWS, "outbound|9080|v1|" + REVIEWS,
        "outbound|9080|v2|" + REVIEWS, "outbound|3306||" + RATINGS, "BlackHoleCluster", "PassthroughCluster",
        "InboundPassthroughCluster", "inbound|9081||");
    Cluster base = unpack(clusters.get("outbound|9080||" + REVIEWS), Cluster.class);
    assertThat(base.getType()).isEqualTo(Cluster.DiscoveryType.EDS);
    assertThat(base.getEdsClusterConfig().getServiceName()).isEqualTo("outbound|9080||" + REVIEWS);
    assertThat(base.getEdsClusterConfig().getEdsConfig().hasAds()).isTrue();
    assertThat(base.getLbPolicy()).isEqualTo(Cluster.LbPolicy.ROUND_ROBIN);
    assertThat(base.getConnectTimeout().getSeconds()).isEqualTo(2);
    var t = base.getCircuitBreakers().getThresholds(0);
    assertThat(List.of(t.getMaxConnections().getValue(), t.getMaxPendingRequests().getValue(),
        t.getMaxRequests().getValue(), t.getMaxRetries().getValue())).containsExactly(100, 10, 1000, 3);
    assertThat(base.getOutlierDetection().getConsecutive5Xx().getValue()).isEqualTo(5);
    assertThat(base.getOutlierDetection().getEnforcingSuccessRate().getValue()).isZero();
    assertThat(base.getOutlierDetection().getInterval().getSeconds()).isEqualTo(10);
    assertThat(base.getOutlierDetection().getBaseEjectionTime().getSeconds()).isEqualTo(30);
    assertThat(base.getOutlierDetection().getMaxEjectionPercent().getValue()).isEqualTo(50);
    assertThat(unpack(clusters.get("outbound|9080|v1|" + REVIEWS), Cluster.class).getLbPolicy())
        .isEqualTo(Cluster.LbPolicy.ROUND_ROBIN);
    assertThat(unpack(clusters.get("outbound|9080|v2|" + REVIEWS), Cluster.class).getLbPolicy())
        .as("the subset's own load balancer wins").isEqualTo(Cluster.LbPolicy.RANDOM);
    Cluster ratings = unpack(clusters.get("outbound|3306||" + RATINGS), Cluster.class);
    assertThat(ratings.getLbPolicy()).as("Istio's default").isEqualTo(Cluster.LbPolicy.LEAST_REQUEST);
    assertThat(Integer.toUnsignedLong(ratings.getCircuitBreakers().getThresholds(0).getMaxConnections().getValue()))
        .as("Istio lifts Envoy's 1024 default").isEqualTo(0xFFFF_FFFFL);
    assertThat(ratings.getConnectTimeout().getSeconds()).isEqualTo(10);
  }

  @Test
  void grpcPortsSpeakHttp2Upstream() throws Exception {
    String grpc = """
        apiVersion: v1
        kind: Service
        metadata: {name: greeter, namespace: default}
        spec:
          clusterIP: 10.96.0.50
          ports: [{name: grpc, port: 50051}]
        """;
    Cluster c = unpack(EnvoyClusters.all(productpage(MESH + grpc)).get("outbound|50051||greeter.default.svc.cluster.local"),
        Cluster.class);
    HttpProtocolOptions options = unpack(
        c.getTypedExtensionProtocolOptionsOrThrow("envoy.extensions.upstreams.http.v3.HttpProtocolOptions"),
        HttpProtocolOptions.class);
    assertThat(options.getExplicitHttpConfig().hasHttp2ProtocolOptions()).isTrue();
  }

  @Test
  void tcpServiceGetsAListenerAtItsVipProxyingToItsCluster() {
    Listener l = unpack(EnvoyListeners.all(productpage(MESH)).get("10.96.0.20_3306"), Listener.class);
    assertThat(l.getAddress().getSocketAddress().getAddress()).isEqualTo("10.96.0.20");
    assertThat(l.getBindToPort().getValue()).isFalse();
    assertThat(l.getFilterChainsCount()).isEqualTo(1);
    TcpProxy tcp = unpack(l.getFilterChains(0).getFilters(0).getTypedConfig(), TcpProxy.class);
    assertThat(tcp.getCluster()).isEqualTo("outbound|3306||" + RATINGS);
    assertThat(tcp.getStatPrefix()).isEqualTo("outbound|3306||" + RATINGS);
  }

  @Test
  void tcpVirtualServiceSplitsConnectionsByWeight() {
    String vs = """
        apiVersion: networking.istio.io/v1
        kind: VirtualService
        metadata: {name: ratings, namespace: default}
        spec:
          hosts: [ratings]
          tcp:
          - route:
            - destination: {host: ratings, subset: v1}
              weight: 90
            - destination: {host: ratings, subset: v2}
              weight: 10
        """;
    Listener l = unpack(EnvoyListeners.all(productpage(MESH + vs)).get("10.96.0.20_3306"), Listener.class);
    TcpProxy tcp = unpack(l.getFilterChains(0).getFilters(0).getTypedConfig(), TcpProxy.class);
    assertThat(tcp.getWeightedClusters().getClustersList()).extracting(c -> c.getName() + "=" + c.getWeight())
        .containsExactly("outbound|3306|v1|" + RATINGS + "=90", "outbound|3306|v2|" + RATINGS + "=10");
    assertThat(tcp.getStatPrefix()).isEqualTo("ratings.default");
  }

  @Test
  void serviceNotExportedToTheProxyNamespaceAppearsNowhereAndSaysWhy() {
    ProxyView view = productpage(MESH);
    String host = "secret.vault.svc.cluster.local";
    assertThat(EnvoyClusters.all(view).keySet()).noneMatch(n -> n.contains(host));
    RouteConfiguration rc = unpack(EnvoyRoutes.generate(view, "9080"), RouteConfiguration.class);
    assertThat(rc.getVirtualHostsList()).extracting(VirtualHost::getName).doesNotContain(host + ":9080");
    assertThat(EnvoyListeners.all(view).keySet()).noneMatch(n -> n.startsWith("10.96.0.30"));
    assertThat(view.dropped().get(host)).contains("not exported to namespace default");
    ProxyView insider = mesh.sidecar("vault", "10.9.9.9", Map.of());
    assertThat(EnvoyClusters.all(insider)).containsKey("outbound|9080||" + host);
  }

  @Test
  void ownWorkloadGetsInboundChainAndOriginalDestinationCluster() {
    ProxyView view = productpage(MESH);
    Listener in = unpack(EnvoyListeners.all(view).get("virtualInbound"), Listener.class);
    assertThat(in.getAddress().getSocketAddress().getPortValue()).isEqualTo(15006);
    assertThat(in.getListenerFilters(0).getName()).isEqualTo("envoy.filters.listener.original_dst");
    assertThat(in.getFilterChainsList()).extracting(FilterChain::getName)
        .containsExactly("virtualInbound-blackhole", "virtualInbound-catchall-http", "virtualInbound", "0.0.0.0_9081",
            "0.0.0.0_9081-mtls"); // no PeerAuthentication: PERMISSIVE, plaintext and mTLS side by side
    FilterChain own = in.getFilterChains(3);
    assertThat(own.getFilterChainMatch().getDestinationPort().getValue()).isEqualTo(9081);
    HttpConnectionManager hcm = unpack(own.getFilters(0).getTypedConfig(), HttpConnectionManager.class);
    assertThat(hcm.getRouteConfig().getVirtualHosts(0).getRoutes(0).getRoute().getCluster()).isEqualTo("inbound|9081||");
    TcpProxy passthrough = unpack(in.getFilterChains(2).getFilters(0).getTypedConfig(), TcpProxy.class);
    assertThat(passthrough.getCluster()).isEqualTo("InboundPassthroughCluster");

    Cluster c = unpack(EnvoyClusters.all(view).get("inbound|9081||"), Cluster.class);
    assertThat(c.getType()).isEqualTo(Cluster.DiscoveryType.ORIGINAL_DST);
    assertThat(c.getLbPolicy()).isEqualTo(Cluster.LbPolicy.CLUSTER_PROVIDED);
    assertThat(c.getUpstreamBindConfig().getSourceAddress().getAddress()).isEqualTo("127.0.0.6");
  }

  @Test
  void endpointsGroupByLocalityWithHealthAndSubsetLabels() {
    ProxyView view = productpage(MESH + REVIEWS_RULES);
    EndpointCache cache = new EndpointCache();
    ClusterLoadAssignment all = unpack(EnvoyEndpoints.generate(view, "outbound|9080||" + REVIEWS, cache, false),
        ClusterLoadAssignment.class);
    assertThat(all.getEndpointsList()).extracting(l -> l.getLocality().getZone() + "=" + l.getLoadBalancingWeight().getValue())
        .containsExactly("zone-a=1", "zone-b=2");
    List<LbEndpoint> zoneB = all.getEndpoints(1).getLbEndpointsList();
    assertThat(zoneB).extracting(e -> e.getEndpoint().getAddress().getSocketAddress().getAddress() + " " + e.getHealthStatus())
        .containsExactly("10.1.0.2 HEALTHY", "10.1.0.3 UNHEALTHY");
    ClusterLoadAssignment v1 = unpack(EnvoyEndpoints.generate(view, "outbound|9080|v1|" + REVIEWS, cache, false),
        ClusterLoadAssignment.class);
    assertThat(v1.getEndpointsList()).flatExtracting(l -> l.getLbEndpointsList())
        .extracting(e -> e.getEndpoint().getAddress().getSocketAddress().getAddress()).containsExactly("10.1.0.1");
    assertThat(EnvoyEndpoints.generate(view, "outbound|9080||" + REVIEWS, cache, false))
        .as("built once per snapshot and shared").isSameAs(EnvoyEndpoints.generate(
            mesh.sidecar("default", "10.1.7.7", Map.of()), "outbound|9080||" + REVIEWS, cache, false));
    ClusterLoadAssignment hidden = unpack(EnvoyEndpoints.generate(view,
        "outbound|9080||secret.vault.svc.cluster.local", cache, false), ClusterLoadAssignment.class);
    assertThat(hidden.getEndpointsCount()).isZero();
  }

  @Test
  void dnsServiceEntryGetsAStrictDnsClusterResolvingItsHost() {
    String se = """
        apiVersion: networking.istio.io/v1
        kind: ServiceEntry
        metadata: {name: httpbin, namespace: default}
        spec:
          hosts: [httpbin.org]
          ports: [{number: 80, name: http, protocol: HTTP}]
          resolution: DNS
          location: MESH_EXTERNAL
        """;
    Cluster c = unpack(EnvoyClusters.all(productpage(MESH + se)).get("outbound|80||httpbin.org"), Cluster.class);
    assertThat(c.getType()).isEqualTo(Cluster.DiscoveryType.STRICT_DNS);
    assertThat(c.getLoadAssignment().getEndpoints(0).getLbEndpoints(0).getEndpoint().getAddress()
        .getSocketAddress().getAddress()).isEqualTo("httpbin.org");
  }

  @Test
  void sameInputsGiveByteIdenticalOutputFromIndependentRegistries() {
    String yaml = MESH + REVIEWS_RULES;
    try (EnvoyMesh a = new EnvoyMesh(yaml); EnvoyMesh b = new EnvoyMesh(yaml)) {
      ProxyView va = a.sidecar("default", "10.1.2.1", Map.of("app", "productpage"));
      ProxyView vb = b.sidecar("default", "10.1.2.1", Map.of("app", "productpage"));
      assertThat(bytes(EnvoyListeners.all(va))).isEqualTo(bytes(EnvoyListeners.all(vb)));
      assertThat(bytes(EnvoyClusters.all(va))).isEqualTo(bytes(EnvoyClusters.all(vb)));
      assertThat(EnvoyRoutes.generate(va, "9080").toByteString()).isEqualTo(EnvoyRoutes.generate(vb, "9080").toByteString());
      String cla = "outbound|9080|v2|" + REVIEWS;
      assertThat(EnvoyEndpoints.generate(va, cla, new EndpointCache(), false).toByteString())
          .isEqualTo(EnvoyEndpoints.generate(vb, cla, new EndpointCache(), false).toByteString());
    }
  }

  static List<String> bytes(SortedMap<String, Any> resources) {
    return resources.entrySet().stream()
        .map(e -> e.getKey() + "=" + java.util.HexFormat.of().formatHex(e.getValue().toByteArray())).toList();
  }
}
