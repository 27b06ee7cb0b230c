package weft.model.gatewayapi;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;
import weft.model.ResourceId;
import weft.model.gatewayapi.GatewayApiStatus.Condition;
import weft.model.gatewayapi.GatewayApiStatus.ListenerStatus;

/** The status conditions Istio's gateway controller would write, decided by the translation. */
class GatewayApiStatusTest {
  static final String YAML = """
      apiVersion: gateway.networking.k8s.io/v1
      kind: Gateway
      metadata: {name: web, namespace: shop}
      spec:
        gatewayClassName: istio
        listeners:
        - {name: http, port: 80, protocol: HTTP, hostname: "*.shop.example"}
        - name: https
          port: 443
          protocol: HTTPS
          tls: {mode: Terminate, certificateRefs: [{name: cert, namespace: certs}]}
      ---
      apiVersion: gateway.networking.k8s.io/v1
      kind: Gateway
      metadata: {name: theirs, namespace: shop}
      spec:
        gatewayClassName: nginx
        listeners: [{name: http, port: 80, protocol: HTTP}]
      ---
      apiVersion: gateway.networking.k8s.io/v1
      kind: HTTPRoute
      metadata: {name: good, namespace: shop}
      spec:
        parentRefs: [{name: web, sectionName: http}, {name: theirs}]
        hostnames: [a.shop.example]
        rules: [{backendRefs: [{name: cart, port: 80}]}]
      ---
      apiVersion: gateway.networking.k8s.io/v1
      kind: HTTPRoute
      metadata: {name: wrong-host, namespace: shop}
      spec:
        parentRefs: [{name: web, sectionName: http}]
        hostnames: [a.other.example]
        rules: [{backendRefs: [{name: cart, port: 80}]}]
      ---
      apiVersion: gateway.networking.k8s.io/v1
      kind: HTTPRoute
      metadata: {name: lost, namespace: shop}
      spec:
        parentRefs: [{name: nowhere}]
        rules: [{backendRefs: [{name: cart, port: 80}]}]
      ---
      apiVersion: gateway.networking.k8s.io/v1
      kind: HTTPRoute
      metadata: {name: foreign-backend, namespace: shop}
      spec:
        parentRefs: [{name: web, sectionName: http}]
        hostnames: [b.shop.example]
        rules: [{backendRefs: [{name: db, namespace: data, port: 80}]}]
      """;

  static Condition condition(List<Condition> conditions, String type) {
    return conditions.stream().filter(c -> c.type().equals(type)).findFirst().orElseThrow();
  }

  @Test
  void aGatewayItsListenersAndItsRoutesGetIstiosConditions() {
    GatewayApiStatus status = GatewayApiTranslationTest.translate(YAML).status();
    ResourceId web = new ResourceId("KubernetesGateway", "shop", "web");
    assertThat(status.gateways()).containsOnlyKeys(web);
    GatewayApiStatus.GatewayStatus g = status.gateways().get(web);
    assertThat(condition(g.conditions(), "Accepted").status()).isTrue();
    assertThat(condition(g.conditions(), "Programmed").status()).isTrue();
    ListenerStatus http = g.listeners().get(0);
    assertThat(http.name()).isEqualTo("http");
    assertThat(http.supportedKinds()).containsExactly("HTTPRoute", "GRPCRoute");
    assertThat(http.attachedRoutes()).as("good and foreign-backend attach; wrong-host does not").isEqualTo(2);
    assertThat(condition(http.conditions(), "Programmed").status()).isTrue();
    ListenerStatus https = g.listeners().get(1);
    assertThat(condition(https.conditions(), "ResolvedRefs")).satisfies(c -> {
      assertThat(c.status()).isFalse();
      assertThat(c.reason()).isEqualTo("RefNotPermitted");
    });
    assertThat(condition(https.conditions(), "Programmed").status()).isFalse();

    var good = status.routes().get(new ResourceId("HTTPRoute", "shop", "good"));
    assertThat(good).as("the nginx Gateway's entry is its controller's to write").singleElement().satisfies(p -> {
      assertThat(p.parentRef().name()).isEqualTo("web");
      assertThat(condition(p.conditions(), "Accepted").status()).isTrue();
      assertThat(condition(p.conditions(), "ResolvedRefs").status()).isTrue();
    });
    assertThat(status.routes().get(new ResourceId("HTTPRoute", "shop", "wrong-host"))).singleElement()
        .satisfies(p -> assertThat(condition(p.conditions(), "Accepted").reason())
            .isEqualTo("NoMatchingListenerHostname"));
    assertThat(status.routes().get(new ResourceId("HTTPRoute", "shop", "lost"))).singleElement()
        .satisfies(p -> assertThat(condition(p.conditions(), "Accepted").reason()).isEqualTo("NoMatchingParent"));
    assertThat(status.routes().get(new ResourceId("HTTPRoute", "shop", "foreign-backend"))).singleElement()
        .satisfies(p -> {
          assertThat(condition(p.conditions(), "Accepted").status()).isTrue();
          assertThat(condition(p.conditions(), "ResolvedRefs").reason()).isEqualTo("RefNotPermitted");
        });
  }
}
