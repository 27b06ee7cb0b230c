package weft.model.parse;

import static org.assertj.core.api.Assertions.assertThat;
import static weft.model.parse.Yamls.errors;
import static weft.model.parse.Yamls.ids;
import static weft.model.parse.Yamls.only;
import static weft.model.parse.Yamls.parse;
import static weft.model.parse.Yamls.warnings;

import java.time.Duration;
import org.junit.jupiter.api.Test;
import weft.model.ConfigProblem;
import weft.model.GatewayRoute;
import weft.model.KubernetesGateway;
import weft.model.ReferenceGrant;
import weft.model.ResourceId;

class GatewayApiParserTest {
  @Test
  void aGatewayIsReadUnderItsOwnKindBesideAnIstioGatewayOfTheSameName() {
    var parsed = parse("""
        apiVersion: gateway.networking.k8s.io/v1
        kind: Gateway
        metadata: {name: web, namespace: edge, creationTimestamp: "2024-05-01T00:00:00Z"}
        spec:
          gatewayClassName: istio
          listeners:
          - name: https
            hostname: "*.example.com"
            port: 443
            protocol: HTTPS
            tls: {certificateRefs: [{name: cert}]}
            allowedRoutes:
              namespaces: {from: Selector, selector: {matchLabels: {team: web}}}
              kinds: [{kind: HTTPRoute}]
        status: {conditions: []}
        ---
        apiVersion: networking.istio.io/v1
        kind: Gateway
        metadata: {name: web, namespace: edge}
        spec:
          selector: {istio: ingressgateway}
          servers: [{port: {number: 80, name: http, protocol: HTTP}, hosts: ["*"]}]
        """);
    assertThat(errors(parsed)).isEmpty();
    assertThat(ids(parsed)).containsExactlyInAnyOrder(new ResourceId("KubernetesGateway", "edge", "web"),
        new ResourceId("Gateway", "edge", "web"));
    KubernetesGateway g = (KubernetesGateway) parsed.resources().stream()
        .filter(r -> r instanceof KubernetesGateway).findFirst().orElseThrow();
    KubernetesGateway.Listener l = g.listeners().get(0);
    assertThat(l.tlsMode()).as("Terminate is the API's default").isEqualTo("Terminate");
    assertThat(l.certificateRefs()).containsExactly(new KubernetesGateway.ObjectRef("", "Secret", "edge", "cert"));
    assertThat(l.allowedFrom()).isEqualTo("Selector");
    assertThat(l.allowedSelector()).containsEntry("team", "web");
    assertThat(l.allowedKinds()).containsExactly("HTTPRoute");
    assertThat(g.creationTimestamp()).isEqualTo("2024-05-01T00:00:00Z");
  }

  @Test
  void anHttpRouteGetsTheApisDefaults() {
    GatewayRoute r = only(parse("""
        apiVersion: gateway.networking.k8s.io/v1
        kind: HTTPRoute
        metadata: {name: r, namespace: shop}
        spec:
          parentRefs: [{name: web, namespace: edge}]
          hostnames: [shop.example.com]
          rules:
          - matches: [{headers: [{name: X-User, value: a}], queryParams: [{name: v, type: RegularExpression, value: "[0-9]+"}]}]
            backendRefs: [{name: cart, port: 8080}]
            timeouts: {request: 10s, backendRequest: 2s}
          - backendRefs: [{name: cart, namespace: other, port: 8080, weight: 0}]
        """), GatewayRoute.class);
    assertThat(r.parentRefs()).containsExactly(
        new GatewayRoute.ParentRef("gateway.networking.k8s.io", "Gateway", "edge", "web", null, 0));
    GatewayRoute.Match m = r.rules().get(0).matches().get(0);
    assertThat(m.path()).isEqualTo(new GatewayRoute.PathMatch("PathPrefix", "/"));
    assertThat(m.headers()).containsExactly(new GatewayRoute.ValueMatch("x-user", false, "a"));
    assertThat(m.queryParams()).containsExactly(new GatewayRoute.ValueMatch("v", true, "[0-9]+"));
    assertThat(r.rules().get(0).timeout()).isEqualTo(Duration.ofSeconds(10));
    assertThat(r.rules().get(0).backendTimeout()).isEqualTo(Duration.ofSeconds(2));
    assertThat(r.rules().get(0).backendRefs().get(0).weight()).as("weight 1 by default").isEqualTo(1);
    assertThat(r.rules().get(1).matches()).as("a rule without matches matches every request").hasSize(1);
    assertThat(r.rules().get(1).backendRefs().get(0).namespace()).isEqualTo("other");
  }

  @Test
  void eachKindIsReadAtTheVersionsItsCrdsServe() {
    var parsed = parse("""
        apiVersion: gateway.networking.k8s.io/v1beta1
        kind: ReferenceGrant
        metadata: {name: g, namespace: backend}
        spec:
          from: [{group: gateway.networking.k8s.io, kind: HTTPRoute, namespace: shop}]
          to: [{group: "", kind: Service}]
        ---
        apiVersion: gateway.networking.k8s.io/v1alpha2
        kind: TCPRoute
        metadata: {name: t}
        spec:
          parentRefs: [{name: web}]
          rules: [{backendRefs: [{name: db, port: 5432}]}]
        ---
        apiVersion: gateway.networking.k8s.io/v1alpha2
        kind: TLSRoute
        metadata: {name: s}
        spec:
          parentRefs: [{name: web}]
          hostnames: [db.example.com]
          rules: [{backendRefs: [{name: db, port: 5432}]}]
        ---
        apiVersion: gateway.networking.k8s.io/v1
        kind: GRPCRoute
        metadata: {name: g}
        spec:
          parentRefs: [{group: "", kind: Service, name: echo}]
          rules: [{matches: [{method: {service: pkg.Echo}}], backendRefs: [{name: echo-v2, port: 9000}]}]
        ---
        apiVersion: gateway.networking.k8s.io/v1beta1
        kind: TCPRoute
        metadata: {name: wrong-version}
        spec: {}
        ---
        apiVersion: gateway.networking.k8s.io/v1
        kind: GatewayClass
        metadata: {name: istio}
        spec: {controllerName: istio.io/gateway-controller}
        """);
    assertThat(ids(parsed)).containsExactlyInAnyOrder(new ResourceId("ReferenceGrant", "backend", "g"),
        new ResourceId("TCPRoute", "default", "t"), new ResourceId("TLSRoute", "default", "s"),
        new ResourceId("GRPCRoute", "default", "g"));
    ReferenceGrant grant = (ReferenceGrant) parsed.resources().get(0);
    assertThat(grant.to()).containsExactly(new ReferenceGrant.To("", "Service", null));
    assertThat(errors(parsed)).singleElement().satisfies(p -> assertThat(p.message())
        .contains("apiVersion gateway.networking.k8s.io/v1beta1 is not supported for kind TCPRoute"));
    assertThat(warnings(parsed)).anyMatch(p -> p.message().contains("GatewayClass"));
  }

  @Test
  void valuesTheSchemaRefusesRejectTheirResourceAloneNamingTheField() {
    var parsed = parse("""
        apiVersion: gateway.networking.k8s.io/v1
        kind: HTTPRoute
        metadata: {name: bad-path}
        spec:
          parentRefs: [{name: web}]
          rules: [{matches: [{path: {type: PathPrefix, value: "no-slash"}}]}]
        ---
        apiVersion: gateway.networking.k8s.io/v1
        kind: HTTPRoute
        metadata: {name: bad-weight}
        spec:
          parentRefs: [{name: web}]
          rules: [{backendRefs: [{name: a, port: 80, weight: 1000001}]}]
        ---
        apiVersion: gateway.networking.k8s.io/v1
        kind: HTTPRoute
        metadata: {name: no-port}
        spec:
          parentRefs: [{name: web}]
          rules: [{backendRefs: [{name: a}]}]
        ---
        apiVersion: gateway.networking.k8s.io/v1
        kind: HTTPRoute
        metadata: {name: typo}
        spec:
          parentRefs: [{name: web}]
          rules: [{backendRef: [{name: a, port: 80}]}]
        ---
        apiVersion: gateway.networking.k8s.io/v1
        kind: HTTPRoute
        metadata: {name: bad-regex}
        spec:
          parentRefs: [{name: web}]
          rules: [{matches: [{headers: [{name: x, type: RegularExpression, value: "(["}]}]}]
        ---
        apiVersion: gateway.networking.k8s.io/v1
        kind: HTTPRoute
        metadata: {name: header-injection}
        spec:
          parentRefs: [{name: web}]
          rules:
          - filters: [{type: RequestHeaderModifier, requestHeaderModifier: {set: [{name: "x\\nevil", value: a}]}}]
        ---
        apiVersion: gateway.networking.k8s.io/v1
        kind: HTTPRoute
        metadata: {name: redirect-and-rewrite}
        spec:
          parentRefs: [{name: web}]
          rules:
          - filters:
            - {type: RequestRedirect, requestRedirect: {scheme: https}}
            - {type: URLRewrite, urlRewrite: {hostname: a.example}}
        ---
        apiVersion: gateway.networking.k8s.io/v1
        kind: Gateway
        metadata: {name: no-cert}
        spec:
          gatewayClassName: istio
          listeners: [{name: https, port: 443, protocol: HTTPS, tls: {mode: Terminate}}]
        ---
        apiVersion: gateway.networking.k8s.io/v1
        kind: Gateway
        metadata: {name: dup-listener}
        spec:
          gatewayClassName: istio
          listeners: [{name: a, port: 80, protocol: HTTP}, {name: a, port: 81, protocol: HTTP}]
        ---
        apiVersion: gateway.networking.k8s.io/v1
        kind: HTTPRoute
        metadata: {name: good}
        spec:
          parentRefs: [{name: web}]
          rules: [{backendRefs: [{name: a, port: 80}]}]
        """);
    assertThat(ids(parsed)).containsExactly(new ResourceId("HTTPRoute", "default", "good"));
    assertThat(errors(parsed)).extracting(p -> p.resource().name() + " " + p.field())
        .contains("bad-path spec.rules[0].matches[0].path.value",
            "bad-weight spec.rules[0].backendRefs[0].weight",
            "no-port spec.rules[0].backendRefs[0].port",
            "typo spec.rules[0].backendRef",
            "bad-regex spec.rules[0].matches[0].headers[0].value",
            "header-injection spec.rules[0].filters[0].requestHeaderModifier.set[0].name",
            "redirect-and-rewrite spec.rules[0].filters",
            "no-cert spec.listeners[0].tls.certificateRefs",
            "dup-listener spec.listeners[1].name");
    assertThat(errors(parsed)).allSatisfy(p -> assertThat(p.file()).isEqualTo(Yamls.FILE));
  }

  @Test
  void fieldsTheApiHasAndWeftDoesNotActOnAreWarnedNotRejected() {
    var parsed = parse("""
        apiVersion: gateway.networking.k8s.io/v1
        kind: HTTPRoute
        metadata: {name: r}
        spec:
          parentRefs: [{name: web}]
          rules:
          - backendRefs: [{name: a, port: 80}]
            retry: {attempts: 3, codes: [503]}
            sessionPersistence: {sessionName: s}
        ---
        apiVersion: gateway.networking.k8s.io/v1
        kind: Gateway
        metadata: {name: web}
        spec:
          gatewayClassName: istio
          addresses: [{value: 198.18.0.1}]
          listeners: [{name: http, port: 80, protocol: HTTP}]
        """);
    assertThat(errors(parsed)).isEmpty();
    assertThat(warnings(parsed)).extracting(ConfigProblem::field)
        .contains("spec.rules[0].sessionPersistence", "spec.addresses")
        .doesNotContain("spec.rules[0].retry");
    assertThat(ids(parsed)).hasSize(2);
  }
}
