package weft.controlplane;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.client.NamespacedKubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.CustomResourceDefinitionContext;
import io.fabric8.kubernetes.client.dsl.base.ResourceDefinitionContext;
import io.fabric8.kubernetes.client.server.mock.KubernetesCrudDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import java.net.InetAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A control plane in Kubernetes mode (fabric8's CRUD API server) writes Gateway API status as
 * Istio's gateway controller does: the Gateway's conditions and listeners with attached routes,
 * the route's parent entry under Istio's controller name beside another controller's entry, and
 * a change of the route changes its conditions.
 */
class GatewayApiStatusWriterTest {
  static final Duration PATIENCE = Duration.ofSeconds(60);
  static final ResourceDefinitionContext GATEWAYS = context("Gateway", "gateways", "v1");
  static final ResourceDefinitionContext ROUTES = context("HTTPRoute", "httproutes", "v1");

  static ResourceDefinitionContext context(String kind, String plural, String version) {
    return new ResourceDefinitionContext.Builder().withGroup("gateway.networking.k8s.io").withVersion(version)
        .withKind(kind).withPlural(plural).withNamespaced(true).build();
  }

  static final String GATEWAY = """
      apiVersion: gateway.networking.k8s.io/v1
      kind: Gateway
      metadata: {name: web, namespace: shop, generation: 3}
      spec:
        gatewayClassName: istio
        listeners: [{name: http, port: 80, protocol: HTTP}]
      """;
  static final String ROUTE = """
      apiVersion: gateway.networking.k8s.io/v1
      kind: HTTPRoute
      metadata: {name: cart, namespace: shop}
      spec:
        parentRefs: [{name: web, sectionName: %s}]
        rules: [{backendRefs: [{name: cart, port: 80}]}]
      status:
        parents:
        - parentRef: {name: other-gateway}
          controllerName: example.com/other-controller
          conditions: [{type: Accepted, status: "True", reason: Accepted, message: ok,
            lastTransitionTime: "2026-01-01T00:00:00Z"}]
      """;

  @SuppressWarnings("unchecked")
  static Map<String, Object> status(GenericKubernetesResource r) {
    Object s = r == null ? null : r.getAdditionalProperties().get("status");
    return s instanceof Map<?, ?> m ? (Map<String, Object>) m : Map.of();
  }

  @SuppressWarnings("unchecked")
  static List<Map<String, Object>> list(Object o) {
    return o instanceof List<?> l ? (List<Map<String, Object>>) l : List.of();
  }

  static Map<String, Object> condition(Object conditions, String type) {
    return list(conditions).stream().filter(c -> type.equals(c.get("type"))).findFirst().orElse(Map.of());
  }

  static Map<String, Object> ours(GenericKubernetesResource route) {
    return list(status(route).get("parents")).stream()
        .filter(p -> "istio.io/gateway-controller".equals(p.get("controllerName"))).findFirst().orElse(Map.of());
  }

  @Test
  void theLeaderWritesGatewayAndRouteStatusAndFollowsAChange(@TempDir Path dir) throws Exception {
    KubernetesMockServer server = new KubernetesMockServer(new Context(), new MockWebServer(), new HashMap<>(),
        new KubernetesCrudDispatcher(), false);
    server.init(InetAddress.getLoopbackAddress(), 0);
    for (String[] k : new String[][] {{"Gateway", "gateways", "v1"}, {"HTTPRoute", "httproutes", "v1"},
        {"GRPCRoute", "grpcroutes", "v1"}, {"ReferenceGrant", "referencegrants", "v1beta1"},
        {"TCPRoute", "tcproutes", "v1alpha2"}, {"TLSRoute", "tlsroutes", "v1alpha2"}}) {
      server.expectCustomResource(new CustomResourceDefinitionContext.Builder()
          .withGroup("gateway.networking.k8s.io").withVersion(k[2]).withKind(k[0]).withPlural(k[1])
          .withScope("Namespaced").withStatusSubresource(true).withName(k[1] + ".gateway.networking.k8s.io").build());
    }
    try (NamespacedKubernetesClient admin = server.createClient()) {
      var gateways = admin.genericKubernetesResources(GATEWAYS).inNamespace("shop");
      var routes = admin.genericKubernetesResources(ROUTES).inNamespace("shop");
      gateways.resource(Serialization.unmarshal(GATEWAY, GenericKubernetesResource.class)).create();
      routes.resource(Serialization.unmarshal(ROUTE.formatted("http"), GenericKubernetesResource.class)).create();
      // Status goes through its subresource, as on a real API server: another controller reports first.
      routes.withName("cart").subresource("status").patch(
          io.fabric8.kubernetes.client.dsl.base.PatchContext.of(io.fabric8.kubernetes.client.dsl.base.PatchType.JSON_MERGE),
          Serialization.asJson(Map.of("status", Serialization.unmarshal(ROUTE.formatted("http"),
              GenericKubernetesResource.class).getAdditionalProperties().get("status"))));
      assertThat(list(status(routes.withName("cart").get()).get("parents"))).hasSize(1);
      Path kubeconfig = MockApiServers.kubeconfig(dir, server.getPort());
      try (ControlPlane cp = ControlPlane.start(ControlPlaneOptions.forKubeconfig(kubeconfig).withPorts(0, 0))) {
        await().atMost(PATIENCE).until(() -> !status(gateways.withName("web").get()).isEmpty());
        Map<String, Object> gw = status(gateways.withName("web").get());
        assertThat(condition(gw.get("conditions"), "Accepted")).containsEntry("status", "True");
        assertThat(condition(gw.get("conditions"), "Programmed")).containsEntry("status", "True");
        Map<String, Object> listener = list(gw.get("listeners")).get(0);
        assertThat(listener).containsEntry("name", "http");
        await().atMost(PATIENCE).until(() -> {
          Map<String, Object> l = list(status(gateways.withName("web").get()).get("listeners")).get(0);
          return Integer.valueOf(1).equals(l.get("attachedRoutes"));
        });
        assertThat(condition(listener.get("conditions"), "ResolvedRefs")).containsEntry("status", "True");

        await().atMost(PATIENCE).until(() -> !ours(routes.withName("cart").get()).isEmpty());
        GenericKubernetesResource route = routes.withName("cart").get();
        Map<String, Object> accepted = condition(ours(route).get("conditions"), "Accepted");
        assertThat(accepted).containsEntry("status", "True").containsKey("lastTransitionTime");
        assertThat(list(status(route).get("parents"))).as("another controller's entry is kept, once")
            .filteredOn(p -> "example.com/other-controller".equals(p.get("controllerName"))).hasSize(1);
        assertThat(((Number) accepted.get("observedGeneration")).longValue())
            .isEqualTo(route.getMetadata().getGeneration());

        // The route moves to a listener that does not exist: it is not accepted there, and says why.
        GenericKubernetesResource changed = Serialization.unmarshal(ROUTE.formatted("nope"),
            GenericKubernetesResource.class);
        changed.getAdditionalProperties().remove("status");
        routes.withName("cart").edit(r -> {
          r.getAdditionalProperties().put("spec", changed.getAdditionalProperties().get("spec"));
          return r;
        });
        await().atMost(PATIENCE).until(() -> "False".equals(
            condition(ours(routes.withName("cart").get()).get("conditions"), "Accepted").get("status")));
        assertThat(condition(ours(routes.withName("cart").get()).get("conditions"), "Accepted"))
            .containsEntry("reason", "NoMatchingParent");
        assertThat(list(status(routes.withName("cart").get()).get("parents"))).hasSize(2);
        // The listener no longer has the route attached.
        await().atMost(PATIENCE).until(() -> Integer.valueOf(0).equals(
            list(status(gateways.withName("web").get()).get("listeners")).get(0).get("attachedRoutes")));
      }
    } finally {
      server.destroy();
    }
  }
}
