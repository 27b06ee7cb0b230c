package weft.xds.envoygen;

import static org.assertj.core.api.Assertions.assertThat;
import static weft.xds.envoygen.EnvoyMesh.unpack;

import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.listener.v3.Filter;
import io.envoyproxy.envoy.config.listener.v3.FilterChain;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.listener.v3.ListenerFilter;
import io.envoyproxy.envoy.config.rbac.v3.RBAC;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.CommonTlsContext;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.SdsSecretConfig;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext;
import io.envoyproxy.envoy.type.matcher.v3.StringMatcher;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import weft.xds.view.ProxyView;

/** PeerAuthentication, DestinationRule and AuthorizationPolicy in, Envoy sidecar and router TLS and RBAC out. */
class EnvoySecurityTest {
  static final String REVIEWS = EnvoyGeneratorsTest.REVIEWS;

  /** productpage (the proxy, 10.1.2.1) also serves a TCP port, 7070, so its inbound side has both kinds of chain. */
  static final String MESH = EnvoyGeneratorsTest.MESH + """
      apiVersion: v1
      kind: Service
      metadata: {name: metrics, namespace: default}
      spec:
        clusterIP: 10.96.0.60
        ports: [{name: tcp-metrics, port: 7070}]
      ---
      apiVersion: discovery.k8s.io/v1
      kind: EndpointSlice
      metadata: {name: metrics-1, namespace: default, labels: {kubernetes.io/service-name: metrics}}
      addressType: IPv4
      ports: [{name: tcp-metrics, port: 7070}]
      endpoints:
      - addresses: ["10.1.2.1"]
      ---
      """;

  static String peerAuthentication(String ns, String name, String spec) {
    return """
        apiVersion: security.istio.io/v1
        kind: PeerAuthentication
        metadata: {name: %s, namespace: %s}
        spec:
        %s
        ---
        """.formatted(name, ns, spec.stripTrailing().indent(2).stripTrailing());
  }

  static String authorizationPolicy(String ns, String name, String spec) {
    return peerAuthentication(ns, name, spec).replace("PeerAuthentication", "AuthorizationPolicy");
  }

  static final String STRICT = peerAuthentication("default", "default", "mtls: {mode: STRICT}");

  EnvoyMesh mesh;

  @AfterEach
  void stop() {
    if (mesh != null) mesh.close();
  }

  ProxyView productpage(String yaml) {
    mesh = new EnvoyMesh(MESH + yaml);
    return mesh.sidecar("default", "10.1.2.1", Map.of("app", "productpage"));
  }

  static Listener inbound(ProxyView view) {
    return unpack(EnvoyListeners.all(view).get("virtualInbound"), Listener.class);
  }

  static FilterChain chain(Listener l, String name) {
    return l.getFilterChainsList().stream().filter(c -> c.getName().equals(name)).findFirst()
        .orElseThrow(() -> new AssertionError("no chain " + name + " in " + l.getFilterChainsList().stream()
            .map(FilterChain::getName).toList()));
  }

  static DownstreamTlsContext tls(FilterChain c) {
    return c.hasTransportSocket() ? unpack(c.getTransportSocket().getTypedConfig(), DownstreamTlsContext.class) : null;
  }

  static List<String> listenerFilters(Listener l) {
    return l.getListenerFiltersList().stream().map(ListenerFilter::getName).toList();
  }

  @Test
  void strictNamespaceTerminatesMtlsWithTheAgentsSdsSecretsOnEveryInboundChain() {
    Listener in = inbound(productpage(STRICT));
    assertThat(in.getFilterChainsList()).extracting(FilterChain::getName)
        .containsExactly("virtualInbound-blackhole", "virtualInbound", "0.0.0.0_7070", "0.0.0.0_9081");
    assertThat(listenerFilters(in)).doesNotContain("envoy.filters.listener.tls_inspector");
    for (String name : List.of("virtualInbound", "0.0.0.0_7070", "0.0.0.0_9081")) {
      FilterChain c = chain(in, name);
      assertThat(c.getFilterChainMatch().getTransportProtocol()).as(name + ": plaintext must reach it and fail").isEmpty();
      DownstreamTlsContext tls = tls(c);
      assertThat(tls).as(name).isNotNull();
      assertThat(tls.getRequireClientCertificate().getValue()).isTrue();
      CommonTlsContext common = tls.getCommonTlsContext();
      assertThat(common.getTlsCertificateSdsSecretConfigsList()).extracting(SdsSecretConfig::getName)
          .containsExactly("default");
      SdsSecretConfig roots = common.getCombinedValidationContext().getValidationContextSdsSecretConfig();
      assertThat(roots.getName()).isEqualTo("ROOTCA");
      assertThat(roots.getSdsConfig().hasAds()).isTrue();
      assertThat(common.getTlsCertificateSdsSecretConfigs(0).getSdsConfig().hasAds()).isTrue();
    }
    assertThat(tls(chain(in, "0.0.0.0_9081")).getCommonTlsContext().getAlpnProtocolsList())
        .containsExactly("h2", "http/1.1");
  }

  @Test
  void permissivePortsHaveAPlaintextAndAnMtlsChainToldApartByTheTlsInspector() {
    Listener in = inbound(productpage(""));
    assertThat(listenerFilters(in)).containsExactly("envoy.filters.listener.original_dst",
        "envoy.filters.listener.tls_inspector", "envoy.filters.listener.http_inspector");
    ListenerFilter inspector = in.getListenerFilters(1);
    assertThat(inspector.getFilterDisabled().getNotMatch().getOrMatch().getRulesList())
        .extracting(r -> r.getDestinationPortRange().getStart()).containsExactly(7070, 9081);
    for (int port : List.of(7070, 9081)) {
      FilterChain plain = chain(in, "0.0.0.0_" + port);
      FilterChain mtls = chain(in, "0.0.0.0_" + port + "-mtls");
      assertThat(plain.getFilterChainMatch().getTransportProtocol()).isEqualTo("raw_buffer");
      assertThat(tls(plain)).isNull();
      assertThat(mtls.getFilterChainMatch().getTransportProtocol()).isEqualTo("tls");
      assertThat(mtls.getFilterChainMatch().getApplicationProtocolsList()).as("no Istio ALPN required").isEmpty();
      assertThat(tls(mtls).getRequireClientCertificate().getValue()).isTrue();
    }
    assertThat(tls(chain(in, "virtualInbound"))).as("undeclared ports stay plaintext").isNull();
  }

  @Test
  void disabledAndPortLevelModes() {
    Listener disabled = inbound(productpage(peerAuthentication("default", "default", "mtls: {mode: DISABLE}")));
    assertThat(disabled.getFilterChainsList()).allMatch(c -> !c.hasTransportSocket());
    assertThat(listenerFilters(disabled)).doesNotContain("envoy.filters.listener.tls_inspector");
    stop();

    Listener mixed = inbound(productpage(STRICT + peerAuthentication("default", "productpage", """
        selector: {matchLabels: {app: productpage}}
        portLevelMtls: {7070: {mode: DISABLE}}
        """)));
    assertThat(tls(chain(mixed, "0.0.0.0_7070"))).isNull();
    assertThat(chain(mixed, "0.0.0.0_7070").getFilterChainMatch().getTransportProtocol()).isEqualTo("raw_buffer");
    assertThat(tls(chain(mixed, "0.0.0.0_9081"))).isNotNull();
  }

  static List<String> httpFilters(FilterChain c) {
    HttpConnectionManager hcm = unpack(c.getFilters(0).getTypedConfig(), HttpConnectionManager.class);
    return hcm.getHttpFiltersList().stream().map(HttpFilter::getName).toList();
  }

  static RBAC networkRbac(FilterChain c, String name) {
    Filter f = c.getFiltersList().stream().filter(x -> x.getName().equals(name)).findFirst().orElseThrow();
    var rbac = unpack(f.getTypedConfig(), io.envoyproxy.envoy.extensions.filters.network.rbac.v3.RBAC.class);
    assertThat(rbac.getStatPrefix()).isNotEmpty();
    return rbac.getRules();
  }

  @Test
  void authorizationPoliciesBecomeHttpRbacOnHttpChainsAndNetworkRbacOnTcpChains() {
    ProxyView view = productpage(STRICT + authorizationPolicy("default", "allow-frontend", """
        selector: {matchLabels: {app: productpage}}
        rules:
        - from: [{source: {principals: [cluster.local/ns/default/sa/frontend]}}]
        - to: [{operation: {methods: [GET]}}]
        """) + authorizationPolicy("default", "deny-admin", """
        action: DENY
        rules:
        - to: [{operation: {paths: [/admin]}}]
        """));
    Listener in = inbound(view);
    assertThat(httpFilters(chain(in, "0.0.0.0_9081"))).containsExactly("envoy.filters.http.rbac.DENY",
        "envoy.filters.http.rbac", "envoy.filters.http.fault", "envoy.filters.http.router");
    FilterChain tcp = chain(in, "0.0.0.0_7070");
    assertThat(tcp.getFiltersList()).extracting(Filter::getName).containsExactly("envoy.filters.network.rbac.DENY",
        "envoy.filters.network.rbac", "envoy.filters.network.tcp_proxy");
    // Istio's rule for TCP: the ALLOW rule on an HTTP method cannot be checked and allows nothing...
    RBAC allow = networkRbac(tcp, "envoy.filters.network.rbac");
    assertThat(allow.getPoliciesMap()).containsOnlyKeys("ns[default]-policy[allow-frontend]-rule[0]");
    assertThat(view.dropped().get("AuthorizationPolicy default/allow-frontend rules[1]")).contains("only for HTTP");
    // ...and the DENY rule loses its path, so it denies every TCP connection.
    RBAC deny = networkRbac(tcp, "envoy.filters.network.rbac.DENY");
    assertThat(deny.getPoliciesOrThrow("ns[default]-policy[deny-admin]-rule[0]").getPermissions(0).getAndRules()
        .getRules(0).getAny()).isTrue();
    // Undeclared ports are covered too.
    assertThat(chain(in, "virtualInbound").getFiltersList()).extracting(Filter::getName)
        .contains("envoy.filters.network.rbac");
  }

  static UpstreamTlsContext upstream(ProxyView view, String cluster) {
    Cluster c = unpack(EnvoyClusters.all(view).get(cluster), Cluster.class);
    return c.hasTransportSocket() ? unpack(c.getTransportSocket().getTypedConfig(), UpstreamTlsContext.class) : null;
  }

  static final String REVIEWS_MTLS = """
      apiVersion: networking.istio.io/v1
      kind: DestinationRule
      metadata: {name: reviews, namespace: default}
      spec:
        host: reviews
        trafficPolicy: {tls: {mode: ISTIO_MUTUAL}}
        subsets:
        - name: v1
          labels: {version: v1}
      ---
      """;

  @Test
  @SuppressWarnings("deprecation")
  void outboundClusterGetsSdsSniAndTheServiceIdentities() {
    ProxyView view = productpage(REVIEWS_MTLS);
    UpstreamTlsContext tls = upstream(view, "outbound|9080||" + REVIEWS);
    assertThat(tls.getSni()).isEqualTo("outbound_.9080_._." + REVIEWS);
    CommonTlsContext common = tls.getCommonTlsContext();
    assertThat(common.getAlpnProtocolsList()).containsExactly("istio-peer-exchange", "istio");
    assertThat(common.getTlsCertificateSdsSecretConfigsList()).extracting(SdsSecretConfig::getName)
        .containsExactly("default");
    assertThat(common.getCombinedValidationContext().getValidationContextSdsSecretConfig().getName())
        .isEqualTo("ROOTCA");
    // The reviews pods run as the namespace's default service account.
    assertThat(common.getCombinedValidationContext().getDefaultValidationContext().getMatchSubjectAltNamesList())
        .containsExactly(StringMatcher.newBuilder().setExact("spiffe://cluster.local/ns/default/sa/default").build());
    assertThat(upstream(view, "outbound|9080|v1|" + REVIEWS).getSni()).isEqualTo("outbound_.9080_.v1_." + REVIEWS);
    assertThat(upstream(view, "inbound|9081||")).as("the local app is reached in plaintext").isNull();
  }

  static Stream<Arguments> autoMtls() {
    return Stream.of(
        Arguments.of("no policy, servers not in the mesh", "", false),
        Arguments.of("STRICT servers", STRICT, true),
        Arguments.of("DISABLE servers", peerAuthentication("default", "default", "mtls: {mode: DISABLE}"), false),
        Arguments.of("DestinationRule DISABLE beats STRICT", STRICT + """
            apiVersion: networking.istio.io/v1
            kind: DestinationRule
            metadata: {name: reviews, namespace: default}
            spec: {host: reviews, trafficPolicy: {tls: {mode: DISABLE}}}
            ---
            """, false));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("autoMtls")
  void autoMtlsFollowsTheServersMode(String name, String config, boolean mtls) {
    assertThat(upstream(productpage(config), "outbound|9080||" + REVIEWS) != null).isEqualTo(mtls);
  }

  @Test
  void eastWestGatewayPassesTheClientsMtlsThroughButAnIngressOriginatesIt() {
    String config = peerAuthentication("istio-system", "default", "mtls: {mode: STRICT}")
        + EnvoyGatewayTest.gateway("istio-system", "cross-network-gateway", "eastwestgateway", """
        - port: {number: 15443, name: tls, protocol: TLS}
          hosts: ["*.local"]
          tls: {mode: AUTO_PASSTHROUGH}
        """);
    mesh = new EnvoyMesh(MESH + config);
    ProxyView eastWest = mesh.router("istio-system", "10.1.9.2", EnvoyGatewayTest.EASTWEST);
    assertThat(upstream(eastWest, "outbound|9080||" + REVIEWS)).isNull();
    Listener l = unpack(EnvoyListeners.all(eastWest).get("0.0.0.0_15443"), Listener.class);
    assertThat(l.getFilterChainsList()).allMatch(c -> !c.hasTransportSocket());
    ProxyView ingress = mesh.router("istio-system", "10.1.9.1", EnvoyGatewayTest.INGRESS);
    assertThat(upstream(ingress, "outbound|9080||" + REVIEWS)).isNotNull();
  }

  @Test
  void secureResourcesSatisfyEnvoysValidationRules() {
    ProxyView view = productpage(STRICT + REVIEWS_MTLS + authorizationPolicy("default", "p", """
        rules:
        - from: [{source: {principals: ["*"], notNamespaces: [evil], ipBlocks: [10.0.0.0/8]}}]
          to: [{operation: {paths: ["/api/*", "*.js", "/v1/{*}/x"], methods: [GET], ports: ["9081"], hosts: ["*"]}}]
          when: [{key: "request.headers[x-user]", values: ["*"]}, {key: destination.ip, values: [10.1.2.1]}]
        """) + authorizationPolicy("default", "none", "{}"));
    List<String> problems = new ArrayList<>();
    EnvoyListeners.all(view).forEach((n, l) -> ProtoRules.violations(l).forEach(v -> problems.add("LDS " + n + v)));
    EnvoyClusters.all(view).forEach((n, c) -> ProtoRules.violations(c).forEach(v -> problems.add("CDS " + n + v)));
    stop();
    ProxyView permissive = productpage("");
    EnvoyListeners.all(permissive).forEach((n, l) -> ProtoRules.violations(l).forEach(v -> problems.add("LDS " + n + v)));
    assertThat(problems).isEmpty();
  }
}
