package weft.xds.envoygen;

import static org.assertj.core.api.Assertions.assertThat;
import static weft.xds.envoygen.EnvoyMesh.unpack;

import com.google.protobuf.Any;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.listener.v3.FilterChain;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.config.route.v3.VirtualHost;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.envoyproxy.envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import weft.xds.view.ProxyView;

/** YAML and Gateway records in, router xDS out: Istio's gateway conventions. */
class EnvoyGatewayTest {
  static final String REVIEWS = EnvoyGeneratorsTest.REVIEWS;
  static final Map<String, String> INGRESS = Map.of("istio", "ingressgateway");
  static final Map<String, String> EASTWEST = Map.of("istio", "eastwestgateway");

  static final String BOOKINFO_VS = """
      apiVersion: networking.istio.io/v1
      kind: VirtualService
      metadata: {name: bookinfo, namespace: default}
      spec:
        hosts: ["*"]
        gateways: [bookinfo-gateway]
        http:
        - match:
          - uri: {prefix: /reviews}
          route:
          - destination: {host: reviews}
      ---
      """;

  EnvoyMesh mesh;

  @AfterEach
  void stop() {
    if (mesh != null) mesh.close();
  }

  /** A Gateway selecting {@code istio: SELECTOR} with the given servers (YAML list items). */
  static String gateway(String ns, String name, String selector, String servers) {
    return """
        apiVersion: networking.istio.io/v1
        kind: Gateway
        metadata: {name: %s, namespace: %s}
        spec:
          selector: {istio: %s}
          servers:
        %s
        ---
        """.formatted(name, ns, selector, servers.stripTrailing().indent(2).stripTrailing());
  }

  static final String HTTP_80 = "- port: {number: 80, name: http, protocol: HTTP}\n  hosts: [\"*\"]";

  ProxyView ingress(String yaml) {
    mesh = new EnvoyMesh(yaml);
    return mesh.router("istio-system", "10.1.9.1", INGRESS);
  }

  @Test
  void httpServerGetsABoundListenerWhoseRoutesComeFromTheBoundVirtualService() {
    ProxyView view = ingress(EnvoyGeneratorsTest.MESH + BOOKINFO_VS
        + gateway("default", "bookinfo-gateway", "ingressgateway", HTTP_80));
    SortedMap<String, Any> listeners = EnvoyListeners.all(view);
    assertThat(listeners).containsOnlyKeys("0.0.0.0_80");
    Listener l = unpack(listeners.get("0.0.0.0_80"), Listener.class);
    assertThat(l.hasBindToPort()).as("a gateway binds its ports").isFalse();
    assertThat(l.getAddress().getSocketAddress().getPortValue()).isEqualTo(80);
    HttpConnectionManager hcm = unpack(l.getFilterChains(0).getFilters(0).getTypedConfig(), HttpConnectionManager.class);
    assertThat(hcm.getRds().getRouteConfigName()).isEqualTo("http.80");
    assertThat(hcm.getUseRemoteAddress().getValue()).isTrue();

    RouteConfiguration rc = unpack(EnvoyRoutes.generate(view, "http.80"), RouteConfiguration.class);
    assertThat(rc.getIgnorePortInHostMatching()).isTrue();
    assertThat(rc.getVirtualHostsList()).extracting(VirtualHost::getName).containsExactly("*:80");
    VirtualHost vh = rc.getVirtualHosts(0);
    assertThat(vh.getDomainsList()).containsExactly("*");
    assertThat(vh.getRoutes(0).getMatch().getPrefix()).isEqualTo("/reviews");
    assertThat(vh.getRoutes(0).getRoute().getCluster()).as("the destination's only port")
        .isEqualTo("outbound|9080||" + REVIEWS);
  }

  @Test
  void virtualServiceNotBoundToTheGatewayGivesNoVirtualHostAndSaysWhy() {
    String meshOnly = BOOKINFO_VS.replace("gateways: [bookinfo-gateway]", "gateways: [other-gateway]");
    ProxyView view = ingress(EnvoyGeneratorsTest.MESH + meshOnly
        + gateway("default", "bookinfo-gateway", "ingressgateway", HTTP_80));
    RouteConfiguration rc = unpack(EnvoyRoutes.generate(view, "http.80"), RouteConfiguration.class);
    assertThat(rc.getVirtualHostsCount()).isZero();
    assertThat(view.dropped().get("route http.80")).contains("no VirtualService bound to default/bookinfo-gateway");
  }

  @Test
  void gatewayThatDoesNotSelectTheRouterIsIgnored() {
    ProxyView view = ingress(EnvoyGeneratorsTest.MESH + BOOKINFO_VS
        + gateway("default", "other", "egressgateway", HTTP_80));
    assertThat(EnvoyListeners.all(view)).isEmpty();
  }

  @Test
  void serverPortOfTheRoutersServiceListensOnItsTargetPort() {
    String service = """
        apiVersion: v1
        kind: Service
        metadata: {name: istio-ingressgateway, namespace: istio-system}
        spec:
          clusterIP: 10.96.9.1
          ports: [{name: http2, port: 80, targetPort: 8080}]
        ---
        apiVersion: discovery.k8s.io/v1
        kind: EndpointSlice
        metadata: {name: ingress-1, namespace: istio-system, labels: {kubernetes.io/service-name: istio-ingressgateway}}
        addressType: IPv4
        ports: [{name: http2, port: 8080}]
        endpoints:
        - addresses: ["10.1.9.1"]
        ---
        """;
    ProxyView view = ingress(EnvoyGeneratorsTest.MESH + service + BOOKINFO_VS
        + gateway("default", "bookinfo-gateway", "ingressgateway", HTTP_80));
    assertThat(EnvoyListeners.all(view)).containsOnlyKeys("0.0.0.0_8080");
    RouteConfiguration rc = unpack(EnvoyRoutes.generate(view, "http.8080"), RouteConfiguration.class);
    assertThat(rc.getVirtualHosts(0).getRoutes(0).getRoute().getCluster()).isEqualTo("outbound|9080||" + REVIEWS);
  }

  @Test
  void httpsServerTerminatesTlsWithItsCredentialBySdsAndHasItsOwnRoutes() {
    String vs = """
        apiVersion: networking.istio.io/v1
        kind: VirtualService
        metadata: {name: bookinfo, namespace: default}
        spec:
          hosts: [bookinfo.example.com]
          gateways: [default/bookinfo-gateway]
          http:
          - route:
            - destination: {host: reviews, port: {number: 9080}}
        """;
    ProxyView view = ingress(EnvoyGeneratorsTest.MESH + vs + "---\n" + gateway("default", "bookinfo-gateway", "ingressgateway", """
        - port: {number: 443, name: https, protocol: HTTPS}
          hosts: [bookinfo.example.com]
          tls: {mode: SIMPLE, credentialName: bookinfo-cert}
        """));
    Listener l = unpack(EnvoyListeners.all(view).get("0.0.0.0_443"), Listener.class);
    assertThat(l.getListenerFiltersList()).extracting(f -> f.getName()).containsExactly("envoy.filters.listener.tls_inspector");
    FilterChain chain = l.getFilterChains(0);
    assertThat(chain.getFilterChainMatch().getServerNamesList()).containsExactly("bookinfo.example.com");
    DownstreamTlsContext ctx = unpack(chain.getTransportSocket().getTypedConfig(), DownstreamTlsContext.class);
    assertThat(ctx.getCommonTlsContext().getTlsCertificateSdsSecretConfigs(0).getName()).isEqualTo("kubernetes://bookinfo-cert");
    assertThat(ctx.getCommonTlsContext().getTlsCertificateSdsSecretConfigs(0).getSdsConfig().hasAds()).isTrue();
    assertThat(ctx.getCommonTlsContext().getAlpnProtocolsList()).containsExactly("h2", "http/1.1");
    String route = "https.443.https.bookinfo-gateway.default";
    HttpConnectionManager hcm = unpack(chain.getFilters(0).getTypedConfig(), HttpConnectionManager.class);
    assertThat(hcm.getRds().getRouteConfigName()).isEqualTo(route);
    RouteConfiguration rc = unpack(EnvoyRoutes.generate(view, route), RouteConfiguration.class);
    assertThat(rc.getVirtualHosts(0).getDomainsList()).containsExactly("bookinfo.example.com");
    assertThat(rc.getVirtualHosts(0).getRoutes(0).getRoute().getCluster()).isEqualTo("outbound|9080||" + REVIEWS);
  }

  @Test
  void autoPassthroughGatewayRoutesEveryMeshServiceBySni() {
    String dr = """
        apiVersion: networking.istio.io/v1
        kind: DestinationRule
        metadata: {name: reviews, namespace: default}
        spec:
          host: reviews
          subsets:
          - name: v1
            labels: {version: v1}
        """;
    mesh = new EnvoyMesh(EnvoyGeneratorsTest.MESH + dr + "---\n"
        + gateway("istio-system", "cross-network-gateway", "eastwestgateway", """
        - port: {number: 15443, name: tls, protocol: TLS}
          hosts: ["*.local"]
          tls: {mode: AUTO_PASSTHROUGH}
        """));
    ProxyView view = mesh.router("istio-system", "10.1.9.2", EASTWEST);
    Listener l = unpack(EnvoyListeners.all(view).get("0.0.0.0_15443"), Listener.class);
    assertThat(l.getListenerFilters(0).getName()).isEqualTo("envoy.filters.listener.tls_inspector");
    Map<String, String> sniToCluster = new java.util.TreeMap<>();
    for (FilterChain c : l.getFilterChainsList()) {
      sniToCluster.put(c.getFilterChainMatch().getServerNames(0),
          unpack(c.getFilters(0).getTypedConfig(), TcpProxy.class).getCluster());
    }
    assertThat(sniToCluster).containsEntry("outbound_.9080_._." + REVIEWS, "outbound|9080||" + REVIEWS)
        .containsEntry("outbound_.9080_.v1_." + REVIEWS, "outbound|9080|v1|" + REVIEWS)
        .containsEntry("outbound_.3306_._.ratings.default.svc.cluster.local", "outbound|3306||ratings.default.svc.cluster.local")
        .doesNotContainKey("outbound_.9080_._.secret.vault.svc.cluster.local");
  }

  @Test
  void routerGetsOutboundClustersButNoInboundOnes() {
    ProxyView view = ingress(EnvoyGeneratorsTest.MESH + BOOKINFO_VS
        + gateway("default", "bookinfo-gateway", "ingressgateway", HTTP_80));
    SortedMap<String, Any> clusters = EnvoyClusters.all(view);
    assertThat(clusters).containsKeys("outbound|9080||" + REVIEWS, "BlackHoleCluster", "PassthroughCluster");
    assertThat(clusters.keySet()).noneMatch(n -> n.startsWith("inbound|") || n.equals("InboundPassthroughCluster"));
    assertThat(unpack(clusters.get("outbound|9080||" + REVIEWS), Cluster.class).getType())
        .isEqualTo(Cluster.DiscoveryType.EDS);
  }

  @Test
  void plainHttpAndTlsServersCannotShareAPort() {
    ProxyView view = ingress(EnvoyGeneratorsTest.MESH + BOOKINFO_VS
        + gateway("default", "a", "ingressgateway", HTTP_80.replace("80", "8443"))
        + gateway("default", "b", "ingressgateway", """
        - port: {number: 8443, name: https, protocol: HTTPS}
          hosts: [x.example.com]
          tls: {mode: SIMPLE, credentialName: cert}
        """));
    Listener l = unpack(EnvoyListeners.all(view).get("0.0.0.0_8443"), Listener.class);
    assertThat(l.getFilterChainsCount()).isEqualTo(1);
    assertThat(view.dropped().get("Gateway default/b servers[0]")).contains("already serves HTTP");
  }
}
