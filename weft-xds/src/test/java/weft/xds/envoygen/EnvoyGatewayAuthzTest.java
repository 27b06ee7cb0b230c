package weft.xds.envoygen;

import static org.assertj.core.api.Assertions.assertThat;
import static weft.xds.envoygen.EnvoyGatewayTest.BOOKINFO_VS;
import static weft.xds.envoygen.EnvoyGatewayTest.HTTP_80;
import static weft.xds.envoygen.EnvoyGatewayTest.INGRESS;
import static weft.xds.envoygen.EnvoyGatewayTest.gateway;
import static weft.xds.envoygen.EnvoyMesh.unpack;
import static weft.xds.envoygen.EnvoySecurityTest.authorizationPolicy;

import io.envoyproxy.envoy.config.listener.v3.Filter;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.rbac.v3.RBAC;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import weft.xds.view.ProxyView;

/**
 * A gateway's pods are a workload: AuthorizationPolicies and RequestAuthentications that select
 * them (Istio's ingress authorization and JWT tasks, our own YAML), or that are attached to their
 * Gateway API Gateway by targetRefs, run on the gateway's HTTP servers and TCP/TLS chains.
 */
class EnvoyGatewayAuthzTest {
  static final String INGRESS_SELECTOR = "selector: {matchLabels: {istio: ingressgateway}}\n";

  EnvoyMesh mesh;

  @AfterEach
  void stop() {
    if (mesh != null) mesh.close();
  }

  static List<HttpFilter> httpFilters(ProxyView view, String listener) {
    Listener l = unpack(EnvoyListeners.all(view).get(listener), Listener.class);
    return unpack(l.getFilterChains(0).getFilters(0).getTypedConfig(), HttpConnectionManager.class)
        .getHttpFiltersList();
  }

  static RBAC rules(List<HttpFilter> filters, String name) {
    HttpFilter f = filters.stream().filter(x -> x.getName().equals(name)).findFirst()
        .orElseThrow(() -> new AssertionError("no " + name + " in " + filters.stream().map(HttpFilter::getName).toList()));
    return unpack(f.getTypedConfig(), io.envoyproxy.envoy.extensions.filters.http.rbac.v3.RBAC.class).getRules();
  }

  @Test
  void anIngressGatewaysPoliciesAndJwtRunOnItsHttpServerBeforeItsRoutes() {
    mesh = new EnvoyMesh(EnvoyGeneratorsTest.MESH + BOOKINFO_VS
        + gateway("default", "bookinfo-gateway", "ingressgateway", HTTP_80)
        + authorizationPolicy("istio-system", "ingress-allowlist", INGRESS_SELECTOR + """
            action: ALLOW
            rules:
            - from: [{source: {remoteIpBlocks: ["198.18.7.0/24"]}}]
            - from: [{source: {requestPrincipals: ["%s/*"]}}]
            """.formatted(EnvoyJwtTest.ISSUER))
        + authorizationPolicy("istio-system", "no-admin", INGRESS_SELECTOR + """
            action: DENY
            rules:
            - to: [{operation: {paths: ["/admin*"]}}]
            """)
        + EnvoyJwtTest.requestAuthentication("istio-system", "ingress-jwt", INGRESS_SELECTOR + """
            jwtRules:
            - issuer: "%s"
              jwks: '%s'
            """.formatted(EnvoyJwtTest.ISSUER, EnvoyJwtTest.JWKS)));
    ProxyView view = mesh.router("istio-system", "10.1.9.1", INGRESS);
    List<HttpFilter> filters = httpFilters(view, "0.0.0.0_80");
    assertThat(filters).extracting(HttpFilter::getName).startsWith("envoy.filters.http.jwt_authn",
        "envoy.filters.http.rbac.DENY", "envoy.filters.http.rbac").endsWith("envoy.filters.http.router");
    RBAC allow = rules(filters, "envoy.filters.http.rbac");
    assertThat(allow.getAction()).isEqualTo(RBAC.Action.ALLOW);
    // remoteIpBlocks is the original client (X-Forwarded-For under the gateway's trusted hops).
    assertThat(allow.getPoliciesOrThrow("ns[istio-system]-policy[ingress-allowlist]-rule[0]").toString())
        .contains("remote_ip").contains("198.18.7.0");
    assertThat(rules(filters, "envoy.filters.http.rbac.DENY").getPoliciesMap())
        .containsOnlyKeys("ns[istio-system]-policy[no-admin]-rule[0]");
    assertThat(EnvoyJwtTest.violations(view)).isEmpty();

    // Another gateway, which the policies do not select, gets none of them.
    ProxyView eastWest = mesh.router("istio-system", "10.1.9.2", Map.of("istio", "eastwestgateway"));
    assertThat(EnvoyListeners.all(eastWest)).isEmpty();
  }

  static final String GATEWAY_API = """
      apiVersion: gateway.networking.k8s.io/v1
      kind: Gateway
      metadata: {name: web, namespace: shop}
      spec:
        gatewayClassName: istio
        listeners:
        - {name: http, port: 8080, protocol: HTTP}
        - name: tls
          port: 8443
          protocol: TLS
          tls: {mode: Passthrough}
      ---
      apiVersion: gateway.networking.k8s.io/v1
      kind: HTTPRoute
      metadata: {name: web, namespace: shop}
      spec:
        parentRefs: [{name: web, sectionName: http}]
        rules: [{backendRefs: [{name: reviews, namespace: default, port: 9080}]}]
      ---
      apiVersion: gateway.networking.k8s.io/v1alpha2
      kind: TLSRoute
      metadata: {name: secure, namespace: shop}
      spec:
        parentRefs: [{name: web, sectionName: tls}]
        hostnames: [secure.example.com]
        rules: [{backendRefs: [{name: reviews, namespace: default, port: 9080}]}]
      ---
      apiVersion: gateway.networking.k8s.io/v1beta1
      kind: ReferenceGrant
      metadata: {name: shop-routes, namespace: default}
      spec:
        from:
        - {group: gateway.networking.k8s.io, kind: HTTPRoute, namespace: shop}
        - {group: gateway.networking.k8s.io, kind: TLSRoute, namespace: shop}
        to: [{group: "", kind: Service}]
      ---
      """;

  @Test
  void aPolicyAttachedToAGatewayApiGatewayRunsOnItsPodsOnlyOnHttpAndTlsChains() {
    mesh = new EnvoyMesh(EnvoyGeneratorsTest.MESH + GATEWAY_API
        + authorizationPolicy("shop", "web-deny", """
            targetRefs: [{kind: Gateway, group: gateway.networking.k8s.io, name: web}]
            action: DENY
            rules:
            - from: [{source: {ipBlocks: ["198.18.9.0/24"]}}]
            """)
        + authorizationPolicy("shop", "waypoint", """
            targetRefs: [{kind: Service, group: "", name: reviews}]
            action: DENY
            rules:
            - from: [{source: {ipBlocks: ["198.18.10.0/24"]}}]
            """));
    ProxyView web = mesh.router("shop", "10.1.9.3", Map.of("gateway.networking.k8s.io/gateway-name", "web"));
    List<HttpFilter> filters = httpFilters(web, "0.0.0.0_8080");
    assertThat(rules(filters, "envoy.filters.http.rbac.DENY").getPoliciesMap())
        .containsOnlyKeys("ns[shop]-policy[web-deny]-rule[0]");
    Listener tls = unpack(EnvoyListeners.all(web).get("0.0.0.0_8443"), Listener.class);
    assertThat(tls.getFilterChains(0).getFiltersList()).extracting(Filter::getName)
        .containsExactly("envoy.filters.network.rbac.DENY", "envoy.filters.network.tcp_proxy");
    assertThat(web.dropped()).hasEntrySatisfying("AuthorizationPolicy shop/waypoint",
        why -> assertThat(why).contains("waypoint"));
    assertThat(EnvoyJwtTest.violations(web)).isEmpty();

    // A sidecar of the same namespace is not a pod of that Gateway.
    ProxyView sidecar = mesh.sidecar("shop", "10.1.9.4", Map.of("app", "cart"));
    assertThat(weft.xds.security.Rbac.forWorkload(sidecar, weft.xds.security.Rbac.Target.HTTP).isEmpty()).isTrue();
    // Nor is another Gateway's pod.
    ProxyView other = mesh.router("shop", "10.1.9.5", Map.of("gateway.networking.k8s.io/gateway-name", "api"));
    assertThat(weft.xds.security.Rbac.forWorkload(other, weft.xds.security.Rbac.Target.HTTP).isEmpty()).isTrue();
  }
}
