package weft.xds.envoygen;

import static org.assertj.core.api.Assertions.assertThat;
import static weft.xds.envoygen.EnvoyMesh.unpack;
import static weft.xds.envoygen.EnvoySecurityTest.authorizationPolicy;
import static weft.xds.envoygen.EnvoySecurityTest.chain;
import static weft.xds.envoygen.EnvoySecurityTest.inbound;

import io.envoyproxy.envoy.config.listener.v3.Filter;
import io.envoyproxy.envoy.config.rbac.v3.RBAC;
import io.envoyproxy.envoy.extensions.filters.http.ext_authz.v3.ExtAuthz;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import weft.model.MeshConfig;
import weft.model.parse.MeshConfigParser;
import weft.model.parse.Parsed;
import weft.registry.Locality;
import weft.xds.proxy.Proxy;
import weft.xds.security.Rbac;
import weft.xds.view.ProxyView;

/**
 * AuthorizationPolicy action CUSTOM as Istio's ext-authz task sets it up (our own YAML): MeshConfig
 * extensionProviders name an HTTP and a gRPC authorization service; the CUSTOM rules select, through
 * an RBAC filter's shadow rules, which requests Envoy's ext_authz asks the provider about. A
 * provider that cannot be used fails closed, with the reason recorded.
 */
class EnvoyExtAuthzTest {
  static final String MESH_CONFIG = """
      extensionProviders:
      - name: sample-ext-authz-http
        envoyExtAuthzHttp:
          service: ext-authz.foo.svc.cluster.local
          port: 8000
          timeout: 2s
          pathPrefix: /check
          failOpen: true
          statusOnError: 503
          includeRequestHeadersInCheck: [x-ext-authz, "x-b3-*"]
          includeAdditionalHeadersInCheck: {x-ext-authz-additional-header: value}
          headersToUpstreamOnAllow: [x-ext-authz-check-result]
          headersToDownstreamOnDeny: [x-ext-authz-check-result, "*-reason"]
      - name: sample-ext-authz-grpc
        envoyExtAuthzGrpc:
          service: foo/ext-authz.foo.svc.cluster.local
          port: 9000
          includeRequestBodyInCheck: {maxRequestBytes: 4096, allowPartialMessage: true}
      - name: elsewhere
        envoyExtAuthzGrpc:
          service: gone.foo.svc.cluster.local
          port: 9000
      """;
  static final String EXT_AUTHZ_SERVICE = """
      apiVersion: v1
      kind: Service
      metadata: {name: ext-authz, namespace: foo}
      spec:
        clusterIP: 10.96.0.99
        ports: [{name: http, port: 8000}, {name: grpc, port: 9000}]
      ---
      """;
  static final String APP = "selector: {matchLabels: {app: productpage}}\n";

  EnvoyMesh mesh;

  @AfterEach
  void stop() {
    if (mesh != null) mesh.close();
  }

  ProxyView productpage(String yaml) {
    mesh = new EnvoyMesh(EnvoySecurityTest.MESH + EXT_AUTHZ_SERVICE + yaml);
    Parsed<MeshConfig> parsed = MeshConfigParser.parseMeshConfig("mesh.yaml", MESH_CONFIG);
    assertThat(parsed.problems()).isEmpty();
    mesh.registry.setMeshConfig(parsed.value());
    mesh.registry.flush();
    return mesh.sidecar("default", "10.1.2.1", Map.of("app", "productpage"));
  }

  static String custom(String provider) {
    return authorizationPolicy("default", "ext-authz", APP + """
        action: CUSTOM
        provider: {name: %s}
        rules:
        - to: [{operation: {paths: ["/headers"]}}]
        """.formatted(provider));
  }

  static HttpFilter filter(List<HttpFilter> filters, String name) {
    return filters.stream().filter(f -> f.getName().equals(name)).findFirst()
        .orElseThrow(() -> new AssertionError("no " + name + " in " + filters.stream().map(HttpFilter::getName).toList()));
  }

  @Test
  void anHttpProviderIsAskedAboutWhatTheCustomRulesSelectBeforeDenyAndAllow() {
    ProxyView view = productpage(custom("sample-ext-authz-http") + authorizationPolicy("default", "deny-evil", APP + """
        action: DENY
        rules:
        - from: [{source: {namespaces: [evil]}}]
        """));
    List<HttpFilter> filters = EnvoyJwtTest.httpFilters(view, "0.0.0.0_9081");
    assertThat(filters).extracting(HttpFilter::getName).containsExactly("envoy.filters.http.rbac.CUSTOM",
        "envoy.filters.http.ext_authz", "envoy.filters.http.rbac.DENY", "envoy.filters.http.fault",
        "envoy.filters.http.router");
    var select = unpack(filter(filters, "envoy.filters.http.rbac.CUSTOM").getTypedConfig(),
        io.envoyproxy.envoy.extensions.filters.http.rbac.v3.RBAC.class);
    assertThat(select.hasRules()).as("the CUSTOM RBAC only selects; it enforces nothing").isFalse();
    assertThat(select.getShadowRulesStatPrefix()).isEqualTo("istio_ext_authz_");
    assertThat(select.getShadowRules().getPoliciesMap())
        .containsOnlyKeys("istio-ext-authz-ns[default]-policy[ext-authz]-rule[0]");
    assertThat(EnvoyJwtTest.rbac(view, "envoy.filters.http.rbac.DENY").getPoliciesMap())
        .containsOnlyKeys("ns[default]-policy[deny-evil]-rule[0]");

    ExtAuthz ext = unpack(filter(filters, "envoy.filters.http.ext_authz").getTypedConfig(), ExtAuthz.class);
    assertThat(ext.getFilterEnabledMetadata().getFilter()).isEqualTo("envoy.filters.http.rbac");
    assertThat(ext.getFilterEnabledMetadata().getPath(0).getKey()).isEqualTo("istio_ext_authz_shadow_effective_policy_id");
    assertThat(ext.getFilterEnabledMetadata().getValue().getStringMatch().getPrefix()).isEqualTo("istio-ext-authz");
    var http = ext.getHttpService();
    assertThat(http.getServerUri().getCluster()).isEqualTo("outbound|8000||ext-authz.foo.svc.cluster.local");
    assertThat(http.getServerUri().getTimeout().getSeconds()).isEqualTo(2);
    assertThat(http.getPathPrefix()).isEqualTo("/check");
    assertThat(http.getAuthorizationRequest().getHeadersToAdd(0).getKey()).isEqualTo("x-ext-authz-additional-header");
    assertThat(ext.getAllowedHeaders().getPatternsList()).satisfiesExactly(
        m -> assertThat(m.getExact()).isEqualTo("x-ext-authz"),
        m -> assertThat(m.getPrefix()).isEqualTo("x-b3-"));
    assertThat(http.getAuthorizationResponse().getAllowedUpstreamHeaders().getPatterns(0).getExact())
        .isEqualTo("x-ext-authz-check-result");
    assertThat(http.getAuthorizationResponse().getAllowedClientHeaders().getPatterns(1).getSuffix())
        .isEqualTo("-reason");
    assertThat(ext.getFailureModeAllow()).isTrue();
    assertThat(ext.getStatusOnError().getCodeValue()).isEqualTo(503);
    assertThat(EnvoyJwtTest.violations(view)).isEmpty();
  }

  @Test
  void aGrpcProviderChecksHttpRequestsAndTcpConnectionsThroughEnvoysGrpcClient() {
    ProxyView view = productpage(custom("sample-ext-authz-grpc"));
    ExtAuthz ext = unpack(filter(EnvoyJwtTest.httpFilters(view, "0.0.0.0_9081"), "envoy.filters.http.ext_authz")
        .getTypedConfig(), ExtAuthz.class);
    assertThat(ext.getGrpcService().getEnvoyGrpc().getClusterName())
        .isEqualTo("outbound|9000||ext-authz.foo.svc.cluster.local");
    assertThat(ext.getGrpcService().getTimeout().getSeconds()).as("Istio's default").isEqualTo(600);
    assertThat(ext.getStatusOnError().getCodeValue()).as("Istio's default").isEqualTo(403);
    assertThat(ext.getWithRequestBody().getMaxRequestBytes()).isEqualTo(4096);
    assertThat(ext.getWithRequestBody().getAllowPartialMessage()).isTrue();

    List<Filter> tcp = chain(inbound(view), "0.0.0.0_7070").getFiltersList();
    assertThat(tcp).extracting(Filter::getName).startsWith("envoy.filters.network.rbac.CUSTOM",
        "envoy.filters.network.ext_authz");
    var network = unpack(tcp.get(1).getTypedConfig(),
        io.envoyproxy.envoy.extensions.filters.network.ext_authz.v3.ExtAuthz.class);
    assertThat(network.getGrpcService().getEnvoyGrpc().getClusterName())
        .isEqualTo("outbound|9000||ext-authz.foo.svc.cluster.local");
    assertThat(network.getFilterEnabledMetadata().getFilter()).isEqualTo("envoy.filters.network.rbac");
    assertThat(EnvoyJwtTest.violations(view)).isEmpty();
  }

  @Test
  void aProviderThatCannotBeUsedFailsClosedWithTheReason() {
    ProxyView undeclared = productpage(custom("no-such-provider"));
    assertThat(EnvoyJwtTest.httpFilters(undeclared, "0.0.0.0_9081")).extracting(HttpFilter::getName)
        .doesNotContain("envoy.filters.http.ext_authz");
    RBAC deny = EnvoyJwtTest.rbac(undeclared, "envoy.filters.http.rbac.DENY");
    assertThat(deny.getAction()).isEqualTo(RBAC.Action.DENY);
    assertThat(deny.getPoliciesMap()).containsOnlyKeys("ns[default]-policy[ext-authz]-rule[0]");
    assertThat(undeclared.dropped()).hasEntrySatisfying("AuthorizationPolicy default/ext-authz",
        why -> assertThat(why).contains("not declared in MeshConfig extensionProviders"));
    mesh.close();

    ProxyView unknownService = productpage(custom("elsewhere"));
    assertThat(EnvoyJwtTest.rbac(unknownService, "envoy.filters.http.rbac.DENY").getPoliciesMap()).hasSize(1);
    assertThat(unknownService.dropped()).hasEntrySatisfying("AuthorizationPolicy default/ext-authz",
        why -> assertThat(why).contains("gone.foo.svc.cluster.local:9000 is not in the registry"));
    mesh.close();

    // An HTTP provider serves HTTP chains; the TCP chains it cannot check deny what the rules select.
    ProxyView httpOnTcp = productpage(custom("sample-ext-authz-http"));
    assertThat(chain(inbound(httpOnTcp), "0.0.0.0_7070").getFiltersList()).extracting(Filter::getName)
        .contains("envoy.filters.network.rbac.DENY").doesNotContain("envoy.filters.network.ext_authz");
    assertThat(httpOnTcp.dropped()).hasEntrySatisfying("AuthorizationPolicy default/ext-authz (TCP chains)",
        why -> assertThat(why).contains("cannot check TCP traffic"));
    assertThat(EnvoyJwtTest.violations(httpOnTcp)).isEmpty();
  }

  @Test
  void aProxylessServerCannotAskAProviderAndDeniesWhatTheRulesSelect() {
    productpage(custom("sample-ext-authz-grpc"));
    ProxyView server = new ProxyView(mesh.registry.current(), new Proxy(
        "sidecar~10.1.2.1~productpage-1.default~default.svc.cluster.local", "sidecar", "10.1.2.1", "productpage-1",
        "default", "cluster1", "network1", Map.of("app", "productpage"), "default", Locality.UNKNOWN, true,
        "default.svc.cluster.local"));
    Rbac.Rules rules = Rbac.forWorkload(server, Rbac.Target.PROXYLESS);
    assertThat(rules.custom()).isNull();
    assertThat(rules.deny().getPoliciesMap()).containsOnlyKeys("ns[default]-policy[ext-authz]-rule[0]");
    assertThat(server.dropped()).hasEntrySatisfying("AuthorizationPolicy default/ext-authz",
        why -> assertThat(why).contains("grpc-java has no ext_authz filter"));
  }

  @Test
  void wasmPluginsAndJwtTakeIstiosPlacesAroundCustomAuthorization() {
    String sha = "a".repeat(64);
    ProxyView view = productpage(custom("sample-ext-authz-grpc") + EnvoyJwtTest.requestAuthentication("default", "jwt",
        APP + "jwtRules: [{issuer: \"" + EnvoyJwtTest.ISSUER + "\", jwks: '" + EnvoyJwtTest.JWKS + "'}]\n")
        + authorizationPolicy("default", "deny-evil", APP + """
            action: DENY
            rules:
            - from: [{source: {namespaces: [evil]}}]
            """)
        + WasmPluginTest.plugin("authn", "url: https://wasm.example.com/authn.wasm\nsha256: " + sha + "\nphase: AUTHN")
        + WasmPluginTest.plugin("authz", "url: https://wasm.example.com/authz.wasm\nsha256: " + sha + "\nphase: AUTHZ"));
    var listeners = EnvoyFilterTest.listeners(new weft.xds.Generators(), view);
    List<String> inbound = EnvoyFilterTest.httpFilters(unpack(listeners.get("virtualInbound"),
        io.envoyproxy.envoy.config.listener.v3.Listener.class), "0.0.0.0_9081");
    // Istio's listener builder: CUSTOM, AUTHN plugins, authentication, AUTHZ plugins, AUDIT/DENY/ALLOW.
    assertThat(inbound).containsSubsequence("envoy.filters.http.rbac.CUSTOM", "envoy.filters.http.ext_authz",
        "default.authn", "envoy.filters.http.jwt_authn", "default.authz", "envoy.filters.http.rbac.DENY",
        "envoy.filters.http.router");
  }

  @Test
  void aBadProviderIsAnErrorNamingItsField() {
    Parsed<MeshConfig> parsed = MeshConfigParser.parseMeshConfig("mesh.yaml", """
        extensionProviders:
        - name: no-port
          envoyExtAuthzHttp: {service: ext-authz.foo.svc.cluster.local}
        - name: bad-header
          envoyExtAuthzHttp:
            service: ext-authz.foo.svc.cluster.local
            port: 8000
            headersToUpstreamOnAllow: ["x y"]
        - name: fine
          envoyExtAuthzGrpc: {service: ext-authz.foo.svc.cluster.local, port: 9000}
        """);
    assertThat(parsed.problems()).anySatisfy(p -> assertThat(p.field()).contains("envoyExtAuthzHttp.port"))
        .anySatisfy(p -> assertThat(p.message()).contains("headersToUpstreamOnAllow").contains("x y"))
        .noneSatisfy(p -> assertThat(p.field()).contains("extensionProviders[2]"));
    // Like any error in MeshConfig, it is not applied: the last good MeshConfig keeps serving.
    assertThat(parsed.value()).isNull();
    assertThat(MeshConfigParser.parseMeshConfig("mesh.yaml", MESH_CONFIG).value().extAuthzProviders())
        .extracting(p -> p.name()).containsExactly("sample-ext-authz-http", "sample-ext-authz-grpc", "elsewhere");
  }
}
