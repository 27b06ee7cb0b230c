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

  /** The control plane's Service as Istio installs it: 15012 (xDS and CA over TLS) and 443 → the webhook's 15017. */
  static final String ISTIOD = """
      apiVersion: v1
      kind: Service
      metadata: {name: istiod, namespace: istio-system}
      spec:
        clusterIP: 10.96.0.2
        ports:
        - {name: tls-xds, port: 15012}
        - {name: https-webhook, port: 443, targetPort: 15017}
      ---
      apiVersion: discovery.k8s.io/v1
      kind: EndpointSlice
      metadata: {name: istiod-1, namespace: istio-system, labels: {kubernetes.io/service-name: istiod}}
      addressType: IPv4
      ports: [{name: tls-xds, port: 15012}, {name: https-webhook, port: 15017}]
      endpoints:
      - addresses: ["10.1.0.2"]
      ---
      """;

  /** Istio's samples/multicluster/expose-istiod.yaml, as published (protocol in lower case). */
  static final String EXPOSE_ISTIOD = """
      apiVersion: networking.istio.io/v1alpha3
      kind: Gateway
      metadata: {name: istiod-gateway, namespace: istio-system}
      spec:
        selector: {istio: eastwestgateway}
        servers:
        - port: {name: tls-istiod, number: 15012, protocol: tls}
          tls: {mode: PASSTHROUGH}
          hosts: ["*"]
        - port: {name: tls-istiodwebhook, number: 15017, protocol: tls}
          tls: {mode: PASSTHROUGH}
          hosts: ["*"]
      ---
      apiVersion: networking.istio.io/v1alpha3
      kind: VirtualService
      metadata: {name: istiod-vs, namespace: istio-system}
      spec:
        hosts: ["*"]
        gateways: [istiod-gateway]
        tls:
        - match:
          - port: 15012
            sniHosts: ["*"]
          route:
          - destination:
              host: istiod.istio-system.svc.cluster.local
              port: {number: 15012}
        - match:
          - port: 15017
            sniHosts: ["*"]
          route:
          - destination:
              host: istiod.istio-system.svc.cluster.local
              port: {number: 443}
      ---
      """;

  @Test
  void exposeIstiodGivesOneListenerPerPassthroughPortWhoseAnyNameChainRelaysToTheControlPlane() {
    mesh = new EnvoyMesh(EnvoyGeneratorsTest.MESH + ISTIOD + EXPOSE_ISTIOD);
    ProxyView view = mesh.router("istio-system", "10.1.9.2", EASTWEST);
    SortedMap<String, Any> listeners = EnvoyListeners.all(view);
    assertThat(listeners).containsOnlyKeys("0.0.0.0_15012", "0.0.0.0_15017");
    Map<Integer, String> portToCluster = new java.util.TreeMap<>();
    for (Any a : listeners.values()) {
      Listener l = unpack(a, Listener.class);
      assertThat(l.getListenerFiltersList()).extracting(f -> f.getName())
          .containsExactly("envoy.filters.listener.tls_inspector");
      FilterChain chain = l.getFilterChains(0);
      assertThat(l.getFilterChainsCount()).isEqualTo(1);
      assertThat(chain.hasFilterChainMatch()).as("sniHosts * matches any name, and none").isFalse();
      assertThat(chain.hasTransportSocket()).as("passed through, never terminated").isFalse();
      portToCluster.put(l.getAddress().getSocketAddress().getPortValue(),
          unpack(chain.getFilters(0).getTypedConfig(), TcpProxy.class).getCluster());
    }
    assertThat(portToCluster).containsExactly(
        Map.entry(15012, "outbound|15012||istiod.istio-system.svc.cluster.local"),
        Map.entry(15017, "outbound|443||istiod.istio-system.svc.cluster.local"));
    assertThat(EnvoyClusters.all(view)).containsKeys("outbound|15012||istiod.istio-system.svc.cluster.local",
        "outbound|443||istiod.istio-system.svc.cluster.local");
    assertThat(view.dropped().keySet()).noneMatch(k -> k.startsWith("Gateway") || k.startsWith("listener"));
  }

  @Test
  void passthroughChainsMatchSniNamesAndPortSplitByWeightAndSkipWhatAnotherChainAlreadyMatches() {
    String vs = """
        apiVersion: networking.istio.io/v1
        kind: VirtualService
        metadata: {name: apps, namespace: istio-system}
        spec:
          hosts: ["*.example.com"]
          gateways: [apps-gateway]
          tls:
          - match:
            - sniHosts: [b.example.com, a.example.com]
              port: 8443
            route:
            - destination: {host: reviews.default.svc.cluster.local, port: {number: 9080}}
              weight: 75
            - destination: {host: ratings.default.svc.cluster.local, port: {number: 3306}}
              weight: 25
          - match:
            - sniHosts: [c.example.com]
              port: 9443
            route:
            - destination: {host: reviews.default.svc.cluster.local, port: {number: 9080}}
          - match:
            - sniHosts: [d.example.com]
              gateways: [istio-system/some-other-gateway]
            route:
            - destination: {host: reviews.default.svc.cluster.local, port: {number: 9080}}
        ---
        apiVersion: networking.istio.io/v1
        kind: VirtualService
        metadata: {name: late, namespace: istio-system}
        spec:
          hosts: ["*.example.com"]
          gateways: [apps-gateway]
          tls:
          - match:
            - sniHosts: [a.example.com]
            route:
            - destination: {host: ratings.default.svc.cluster.local, port: {number: 3306}}
        ---
        """;
    mesh = new EnvoyMesh(EnvoyGeneratorsTest.MESH + vs + gateway("istio-system", "apps-gateway", "eastwestgateway", """
        - port: {number: 8443, name: tls, protocol: TLS}
          tls: {mode: PASSTHROUGH}
          hosts: ["*.example.com"]
        """));
    ProxyView view = mesh.router("istio-system", "10.1.9.2", EASTWEST);
    Listener l = unpack(EnvoyListeners.all(view).get("0.0.0.0_8443"), Listener.class);
    assertThat(l.getFilterChainsCount()).as("port 9443, another gateway, and a.example.com again: left out").isEqualTo(1);
    FilterChain chain = l.getFilterChains(0);
    assertThat(chain.getFilterChainMatch().getServerNamesList()).containsExactly("a.example.com", "b.example.com");
    TcpProxy proxy = unpack(chain.getFilters(0).getTypedConfig(), TcpProxy.class);
    assertThat(proxy.getWeightedClusters().getClustersList())
        .extracting(c -> c.getName() + "=" + c.getWeight())
        .containsExactly("outbound|9080||" + REVIEWS + "=75", "outbound|3306||ratings.default.svc.cluster.local=25");
    assertThat(view.dropped().get("Gateway istio-system/apps-gateway servers[0] (port 8443)"))
        .contains("already matches server names [a.example.com]");
  }

  @Test
  void passthroughServerWithoutTlsRoutesIsLeftOutSayingWhy() {
    mesh = new EnvoyMesh(EnvoyGeneratorsTest.MESH + gateway("istio-system", "lonely", "eastwestgateway", """
        - port: {number: 8443, name: tls, protocol: TLS}
          tls: {mode: PASSTHROUGH}
          hosts: ["*"]
        """));
    ProxyView view = mesh.router("istio-system", "10.1.9.2", EASTWEST);
    assertThat(EnvoyListeners.all(view)).isEmpty();
    assertThat(view.dropped().get("Gateway istio-system/lonely servers[0] (port 8443)"))
        .contains("needs spec.tls routes");
  }
}
