package weft.xds.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Any;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import weft.model.gatewayapi.GatewayApiTranslation;
import weft.xds.TypeUrls;

/**
 * A router proxy labelled with a Kubernetes Gateway's name, over a real ADS stream: it is sent the
 * Gateway's listener and the attached HTTPRoute's routes, and a new route is pushed to it.
 */
class GatewayApiRouterStreamTest {
  static final String YAML = StreamMesh.service("echo", 8080, "echo-1", List.of("10.1.0.1"))
      + StreamMesh.service("echo-v2", 8080, "echo-v2-1", List.of("10.1.0.2")) + """
      apiVersion: gateway.networking.k8s.io/v1
      kind: Gateway
      metadata: {name: gw, namespace: default}
      spec:
        gatewayClassName: istio
        listeners: [{name: http, port: 80, protocol: HTTP, hostname: shop.example}]
      ---
      apiVersion: gateway.networking.k8s.io/v1
      kind: HTTPRoute
      metadata: {name: shop, namespace: default}
      spec:
        parentRefs: [{name: gw}]
        rules: [{backendRefs: [{name: echo, port: 8080}]}]
      ---
      """;

  StreamMesh mesh;
  RawAdsClient<io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest, DiscoveryResponse> client;

  @AfterEach
  void stop() {
    if (client != null) client.close();
    if (mesh != null) mesh.close();
  }

  static Node router() {
    return Node.newBuilder()
        .setId("router~10.1.9.9~gw-istio-5d8f.default~default.svc.cluster.local")
        .setMetadata(Struct.newBuilder()
            .putFields("NAMESPACE", Value.newBuilder().setStringValue("default").build())
            .putFields("LABELS", Value.newBuilder().setStructValue(Struct.newBuilder().putFields(
                GatewayApiTranslation.GATEWAY_NAME_LABEL, Value.newBuilder().setStringValue("gw").build())).build()))
        .build();
  }

  @Test
  void theLabelledRouterGetsTheListenerAndRoutesAndANewRouteIsPushed() throws Exception {
    mesh = new StreamMesh(YAML);
    client = RawAdsClient.sotw(mesh.port(), false, r -> { });
    Node node = router();
    client.send(RawAdsClient.request(node, TypeUrls.LISTENER, List.of()));
    DiscoveryResponse lds = client.read();
    assertThat(lds.getResourcesList()).extracting(a -> unpack(a, Listener.class).getName())
        .containsExactly("0.0.0.0_80");
    client.send(RawAdsClient.request(node, TypeUrls.LISTENER, List.of()).toBuilder()
        .setVersionInfo(lds.getVersionInfo()).setResponseNonce(lds.getNonce()).build());

    client.send(RawAdsClient.request(node, TypeUrls.ROUTE, List.of("http.80")));
    DiscoveryResponse rds = client.read();
    RouteConfiguration rc = unpack(rds.getResources(0), RouteConfiguration.class);
    assertThat(rc.getVirtualHosts(0).getDomainsList()).containsExactly("shop.example");
    assertThat(rc.getVirtualHosts(0).getRoutes(0).getRoute().getCluster())
        .isEqualTo("outbound|8080||echo.default.svc.cluster.local");
    client.send(RawAdsClient.request(node, TypeUrls.ROUTE, List.of("http.80")).toBuilder()
        .setVersionInfo(rds.getVersionInfo()).setResponseNonce(rds.getNonce()).build());

    mesh.apply(StreamMesh.parse("""
        apiVersion: gateway.networking.k8s.io/v1
        kind: HTTPRoute
        metadata: {name: canary, namespace: default}
        spec:
          parentRefs: [{name: gw}]
          rules:
          - matches: [{path: {type: Exact, value: /canary}}]
            backendRefs: [{name: echo-v2, port: 8080}]
        """), false);
    RouteConfiguration pushed = null;
    while (pushed == null) {
      DiscoveryResponse next = client.read();
      if (next.getTypeUrl().equals(TypeUrls.ROUTE)) pushed = unpack(next.getResources(0), RouteConfiguration.class);
    }
    assertThat(pushed.getVirtualHosts(0).getRoutes(0).getMatch().getPath()).isEqualTo("/canary");
    assertThat(pushed.getVirtualHosts(0).getRoutes(0).getRoute().getCluster())
        .isEqualTo("outbound|8080||echo-v2.default.svc.cluster.local");
  }

  private static <T extends com.google.protobuf.Message> T unpack(Any any, Class<T> type) {
    try {
      return any.unpack(type);
    } catch (com.google.protobuf.InvalidProtocolBufferException e) {
      throw new AssertionError(e);
    }
  }
}
