package weft.xds.envoygen;

import static org.assertj.core.api.Assertions.assertThat;
import static weft.xds.envoygen.EnvoyMesh.unpack;

import com.google.protobuf.Any;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.route.v3.Route;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.config.route.v3.VirtualHost;
import io.envoyproxy.envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy;
import java.util.Map;
import java.util.SortedMap;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import weft.xds.view.ProxyView;

/** The finer points of Istio's translation: retries, hashing, matches, DNS entries, visibility. */
class EnvoyRoutingDetailsTest {
  static final String MESH = EnvoyGeneratorsTest.MESH;
  static final String REVIEWS = EnvoyGeneratorsTest.REVIEWS;

  EnvoyMesh mesh;

  @AfterEach
  void stop() {
    if (mesh != null) mesh.close();
  }

  ProxyView sidecar(String yaml) {
    mesh = new EnvoyMesh(yaml);
    return mesh.sidecar("default", "10.1.2.1", Map.of("app", "productpage"));
  }

  static Route reviewsRoute(ProxyView view, int index) {
    RouteConfiguration rc = unpack(EnvoyRoutes.generate(view, "9080"), RouteConfiguration.class);
    return rc.getVirtualHostsList().stream().filter(v -> v.getName().equals(REVIEWS + ":9080")).findFirst()
        .orElseThrow().getRoutes(index);
  }

  @Test
  void virtualServiceRetriesOverrideIstioDefaultsAndZeroAttemptsTurnThemOff() {
    ProxyView view = sidecar(MESH + """
        apiVersion: networking.istio.io/v1
        kind: VirtualService
        metadata: {name: reviews, namespace: default}
        spec:
          hosts: [reviews]
          http:
          - match: [{uri: {exact: /once}}]
            route: [{destination: {host: reviews}}]
            retries: {attempts: 0}
          - route: [{destination: {host: reviews}}]
            retries: {attempts: 3, perTryTimeout: 2s, retryOn: "gateway-error,503"}
        """);
    Route once = reviewsRoute(view, 0);
    assertThat(once.getMatch().getPath()).isEqualTo("/once");
    assertThat(once.getRoute().hasRetryPolicy()).isFalse();
    var retry = reviewsRoute(view, 1).getRoute().getRetryPolicy();
    assertThat(retry.getNumRetries().getValue()).isEqualTo(3);
    assertThat(retry.getRetryOn()).isEqualTo("gateway-error,retriable-status-codes");
    assertThat(retry.getRetriableStatusCodesList()).containsExactly(503);
    assertThat(retry.getPerTryTimeout().getSeconds()).isEqualTo(2);
  }

  @Test
  void matchesRewritesAndConsistentHashingTranslateAsIstioDoes() {
    ProxyView view = sidecar(MESH + """
        apiVersion: networking.istio.io/v1
        kind: VirtualService
        metadata: {name: reviews, namespace: default}
        spec:
          hosts: [reviews]
          http:
          - match:
            - uri: {prefix: /api}
              queryParams: {v: {exact: "2"}}
              withoutHeaders: {x-debug: {exact: "1"}}
              ignoreUriCase: true
            rewrite: {uri: /v2, authority: reviews-v2}
            route: [{destination: {host: reviews}}]
        ---
        apiVersion: networking.istio.io/v1
        kind: DestinationRule
        metadata: {name: reviews, namespace: default}
        spec:
          host: reviews
          trafficPolicy:
            loadBalancer: {consistentHash: {httpHeaderName: x-user}}
        """);
    Route r = reviewsRoute(view, 0);
    assertThat(r.getMatch().getPrefix()).isEqualTo("/api");
    assertThat(r.getMatch().getCaseSensitive().getValue()).isFalse();
    assertThat(r.getMatch().getQueryParameters(0).getStringMatch().getExact()).isEqualTo("2");
    assertThat(r.getMatch().getHeaders(0).getInvertMatch()).isTrue();
    assertThat(r.getMatch().getHeaders(0).getTreatMissingHeaderAsEmpty()).isTrue();
    assertThat(r.getRoute().getPrefixRewrite()).isEqualTo("/v2");
    assertThat(r.getRoute().getHostRewriteLiteral()).isEqualTo("reviews-v2");
    assertThat(r.getRoute().getHashPolicy(0).getHeader().getHeaderName()).isEqualTo("x-user");
    assertThat(r.getRoute().getRetryPolicy().getRetryHostPredicateCount())
        .as("consistent hashing retries the same host").isZero();
    Cluster c = unpack(EnvoyClusters.all(view).get("outbound|9080||" + REVIEWS), Cluster.class);
    assertThat(c.getLbPolicy()).isEqualTo(Cluster.LbPolicy.RING_HASH);
    assertThat(c.getRingHashLbConfig().getMinimumRingSize().getValue()).isEqualTo(1024);
  }

  @Test
  void proxyInAnotherNamespaceGetsNoBareShortName() {
    mesh = new EnvoyMesh(MESH);
    ProxyView shop = mesh.sidecar("shop", "10.3.0.1", Map.of());
    RouteConfiguration rc = unpack(EnvoyRoutes.generate(shop, "9080"), RouteConfiguration.class);
    VirtualHost reviews = rc.getVirtualHostsList().stream()
        .filter(v -> v.getName().equals(REVIEWS + ":9080")).findFirst().orElseThrow();
    assertThat(reviews.getDomainsList()).contains("reviews.default", "reviews.default.svc:9080")
        .doesNotContain("reviews", "reviews:9080");
  }

  @Test
  void sidecarEgressHostsHideEverythingElse() {
    ProxyView view = sidecar(MESH + """
        apiVersion: networking.istio.io/v1
        kind: Sidecar
        metadata: {name: default, namespace: default}
        spec:
          egress:
          - hosts: ["./reviews.default.svc.cluster.local"]
        """);
    SortedMap<String, Any> clusters = EnvoyClusters.all(view);
    assertThat(clusters).containsKey("outbound|9080||" + REVIEWS)
        .doesNotContainKey("outbound|3306||ratings.default.svc.cluster.local");
    assertThat(EnvoyListeners.all(view)).doesNotContainKey("10.96.0.20_3306");
    assertThat(view.dropped().get("ratings.default.svc.cluster.local")).contains("egress hosts");
  }

  @Test
  void serviceEntryResolutionPicksTheDiscoveryTypeAsIstio() {
    String entries = """
        apiVersion: networking.istio.io/v1
        kind: ServiceEntry
        metadata: {name: mirrors, namespace: default}
        spec:
          hosts: [mirror.example.com]
          ports: [{number: 443, name: tls, protocol: TLS}]
          resolution: DNS_ROUND_ROBIN
          endpoints: [{address: a.example.com}]
        ---
        apiVersion: networking.istio.io/v1
        kind: ServiceEntry
        metadata: {name: legacy, namespace: default}
        spec:
          hosts: [legacy.example.com]
          addresses: [240.0.0.1]
          ports: [{number: 5432, name: tcp, protocol: TCP}]
          resolution: NONE
        """;
    ProxyView view = sidecar(MESH + entries);
    SortedMap<String, Any> clusters = EnvoyClusters.all(view);
    Cluster mirrors = unpack(clusters.get("outbound|443||mirror.example.com"), Cluster.class);
    assertThat(mirrors.getType()).isEqualTo(Cluster.DiscoveryType.LOGICAL_DNS);
    assertThat(mirrors.getLoadAssignment().getEndpoints(0).getLbEndpointsCount()).isEqualTo(1);
    assertThat(mirrors.getLoadAssignment().getEndpoints(0).getLbEndpoints(0).getEndpoint().getAddress()
        .getSocketAddress().getAddress()).isEqualTo("a.example.com");
    Cluster legacy = unpack(clusters.get("outbound|5432||legacy.example.com"), Cluster.class);
    assertThat(legacy.getType()).isEqualTo(Cluster.DiscoveryType.ORIGINAL_DST);
    assertThat(legacy.getLbPolicy()).isEqualTo(Cluster.LbPolicy.CLUSTER_PROVIDED);
    Listener l = unpack(EnvoyListeners.all(view).get("240.0.0.1_5432"), Listener.class);
    assertThat(unpack(l.getFilterChains(0).getFilters(0).getTypedConfig(), TcpProxy.class).getCluster())
        .isEqualTo("outbound|5432||legacy.example.com");

    ProxyView router = mesh.router("istio-system", "10.1.9.9", Map.of("istio", "egressgateway"));
    assertThat(unpack(EnvoyClusters.all(router).get("outbound|5432||legacy.example.com"), Cluster.class).getType())
        .as("a gateway has no original destination").isEqualTo(Cluster.DiscoveryType.EDS);
  }

  @Test
  void tcpGatewayServerForwardsByTheBoundVirtualServiceTcpRoute() {
    mesh = new EnvoyMesh(MESH + EnvoyGatewayTest.gateway("default", "db-gateway", "ingressgateway", """
        - port: {number: 3306, name: tcp, protocol: TCP}
          hosts: ["*"]
        """) + """
        apiVersion: networking.istio.io/v1
        kind: VirtualService
        metadata: {name: db, namespace: default}
        spec:
          hosts: ["*"]
          gateways: [db-gateway]
          tcp:
          - match: [{port: 3306}]
            route: [{destination: {host: ratings}}]
        """);
    ProxyView view = mesh.router("istio-system", "10.1.9.1", EnvoyGatewayTest.INGRESS);
    Listener l = unpack(EnvoyListeners.all(view).get("0.0.0.0_3306"), Listener.class);
    assertThat(unpack(l.getFilterChains(0).getFilters(0).getTypedConfig(), TcpProxy.class).getCluster())
        .isEqualTo("outbound|3306||ratings.default.svc.cluster.local");
  }

  @Test
  void routerOutputIsByteIdenticalFromIndependentRegistries() {
    String yaml = MESH + EnvoyGatewayTest.BOOKINFO_VS
        + EnvoyGatewayTest.gateway("default", "bookinfo-gateway", "ingressgateway", EnvoyGatewayTest.HTTP_80);
    try (EnvoyMesh a = new EnvoyMesh(yaml); EnvoyMesh b = new EnvoyMesh(yaml)) {
      ProxyView va = a.router("istio-system", "10.1.9.1", EnvoyGatewayTest.INGRESS);
      ProxyView vb = b.router("istio-system", "10.1.9.1", EnvoyGatewayTest.INGRESS);
      assertThat(EnvoyGeneratorsTest.bytes(EnvoyListeners.all(va))).isEqualTo(EnvoyGeneratorsTest.bytes(EnvoyListeners.all(vb)));
      assertThat(EnvoyGeneratorsTest.bytes(EnvoyClusters.all(va))).isEqualTo(EnvoyGeneratorsTest.bytes(EnvoyClusters.all(vb)));
      assertThat(EnvoyRoutes.generate(va, "http.80").toByteString()).isEqualTo(EnvoyRoutes.generate(vb, "http.80").toByteString());
    }
  }
}
