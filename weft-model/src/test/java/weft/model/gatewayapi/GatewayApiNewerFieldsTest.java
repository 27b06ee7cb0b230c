package weft.model.gatewayapi;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import weft.model.ConfigProblem;
import weft.model.GatewayRoute;
import weft.model.KubernetesGateway;
import weft.model.ReferenceGrant;
import weft.model.Resource;
import weft.model.ResourceId;
import weft.model.parse.ParsedFile;
import weft.model.parse.ResourceParser;

/**
 * Gateway API YAML of the shape Istio's own tests use with newer API releases is accepted (our own
 * YAML): TCPRoute and TLSRoute at v1, a waypoint's HBONE listener, Gateway {@code spec.tls}, a
 * Terminate listener with options only, an empty prefix replacement, and namespace selectors with
 * {@code matchExpressions}, which are honoured.
 */
class GatewayApiNewerFieldsTest {
  static final String YAML = """
      apiVersion: gateway.networking.k8s.io/v1
      kind: Gateway
      metadata: {name: edge, namespace: infra}
      spec:
        gatewayClassName: istio
        tls:
          frontend:
            default:
              validation: {caCertificateRefs: [{kind: ConfigMap, name: ca}]}
        listeners:
        - name: http
          port: 80
          protocol: HTTP
          allowedRoutes:
            namespaces:
              from: Selector
              selector:
                matchExpressions:
                - {key: team, operator: In, values: [shop, cart]}
                - {key: quarantine, operator: DoesNotExist}
        - name: tls
          port: 443
          protocol: TLS
          tls: {mode: Terminate, options: {example.com/cert: vault}}
        - {name: mesh, port: 15008, protocol: HBONE}
      ---
      apiVersion: gateway.networking.k8s.io/v1
      kind: HTTPRoute
      metadata: {name: shop, namespace: shop}
      spec:
        parentRefs: [{name: edge, namespace: infra, sectionName: http}]
        rules:
        - filters:
          - type: URLRewrite
            urlRewrite: {path: {type: ReplacePrefixMatch, replacePrefixMatch: ""}}
          backendRefs: [{name: shop, port: 80}]
      ---
      apiVersion: gateway.networking.k8s.io/v1
      kind: HTTPRoute
      metadata: {name: held, namespace: held}
      spec:
        parentRefs: [{name: edge, namespace: infra, sectionName: http}]
        rules: [{backendRefs: [{name: held, port: 80}]}]
      ---
      apiVersion: gateway.networking.k8s.io/v1
      kind: TCPRoute
      metadata: {name: db, namespace: infra}
      spec:
        parentRefs: [{name: edge}]
        rules: [{backendRefs: [{name: db, port: 5432}]}]
      ---
      apiVersion: gateway.networking.k8s.io/v1
      kind: TLSRoute
      metadata: {name: secure, namespace: infra}
      spec:
        parentRefs: [{name: edge}]
        hostnames: [secure.example.com]
        rules: [{backendRefs: [{name: secure, port: 443}]}]
      """;

  @Test
  void newerGatewayApiYamlIsAcceptedAndMatchExpressionsSelectNamespaces() {
    ParsedFile f = ResourceParser.parse("gw.yaml", YAML);
    assertThat(f.problems()).filteredOn(p -> p.severity() == ConfigProblem.Severity.ERROR).isEmpty();
    assertThat(f.resources()).extracting(r -> r.id().kind()).contains("TCPRoute", "TLSRoute");
    assertThat(f.problems()).anySatisfy(p -> assertThat(p.field()).isEqualTo("spec.tls"));

    List<KubernetesGateway> gateways = f.resources().stream().filter(KubernetesGateway.class::isInstance)
        .map(KubernetesGateway.class::cast).toList();
    List<GatewayRoute> routes = f.resources().stream().filter(GatewayRoute.class::isInstance)
        .map(GatewayRoute.class::cast).toList();
    GatewayApiTranslation.Result r = GatewayApiTranslation.translate(gateways, routes, List.<ReferenceGrant>of(),
        Map.of("shop", Map.of("team", "shop"), "held", Map.of("team", "cart", "quarantine", "yes")),
        "svc.cluster.local");
    var status = r.status();
    assertThat(status.routes().get(new ResourceId("HTTPRoute", "shop", "shop"))).singleElement()
        .satisfies(p -> assertThat(p.conditions().get(0).status()).isTrue());
    assertThat(status.routes().get(new ResourceId("HTTPRoute", "held", "held"))).singleElement()
        .satisfies(p -> assertThat(p.conditions().get(0).reason()).isEqualTo("NotAllowedByListeners"));
    // HBONE is a waypoint's protocol: accepted by the schema, not served by Weft.
    var mesh = status.gateways().get(new ResourceId("KubernetesGateway", "infra", "edge")).listeners().get(2);
    assertThat(mesh.conditions().get(0).reason()).isEqualTo("UnsupportedProtocol");
    // The empty replacement removes the matched prefix.
    assertThat(r.virtualServices()).anySatisfy(v -> assertThat(v.http()).anySatisfy(h -> {
      assertThat(h.rewrite()).isNotNull();
      assertThat(h.rewrite().uri()).isEqualTo("/");
    }));
  }

  @Test
  void aTracingTagOfANewerKindIsAcceptedAndLeftOut() {
    ParsedFile f = ResourceParser.parse("t.yaml", """
        apiVersion: telemetry.istio.io/v1
        kind: Telemetry
        metadata: {name: otel, namespace: default}
        spec:
          tracing:
          - providers: [{name: otel}]
            customTags:
              route: {formatter: {value: "%ROUTE_NAME%"}}
              env: {environment: {name: POD_NAME}}
        """);
    assertThat(f.problems()).filteredOn(p -> p.severity() == ConfigProblem.Severity.ERROR).isEmpty();
    assertThat(f.problems()).anySatisfy(p -> assertThat(p.field()).endsWith("customTags.route.formatter"));
    List<Resource> resources = f.resources();
    assertThat(resources).hasSize(1);
  }
}
