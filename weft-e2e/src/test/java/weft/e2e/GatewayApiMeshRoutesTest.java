package weft.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.grpc.ManagedChannel;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Gateway API mesh routes (GAMMA): an HTTPRoute or GRPCRoute whose parent is a Service routes the
 * mesh's calls to that Service, here for proxyless grpc-java clients on real sockets: a header
 * match, a weighted split between two backend Services, a gRPC method match.
 */
class GatewayApiMeshRoutesTest {
  static final String HOST = SingleClusterTest.HOST;
  static final int SERVICE_PORT = SingleClusterTest.SERVICE_PORT;
  static final String[] V1 = {"reviews-v1", "127.0.0.1", "v1"};
  static final String[] V2 = {"reviews-v2", "127.0.0.3", "v2"};

  Mesh mesh;

  @BeforeEach
  void start() throws Exception {
    mesh = new Mesh();
    for (String[] w : new String[][] {V1, V2}) mesh.echo(w[0], w[1]);
    // The parent Service has no endpoints of its own: only its routes send its calls anywhere.
    mesh.write("reviews.yaml", Yamls.service("reviews", "default", SERVICE_PORT, mesh.port, null)
        + "---\n" + Yamls.service("reviews-v1", "default", SERVICE_PORT, mesh.port, null)
        + Yamls.endpoints("reviews-v1", "default", mesh.port, V1)
        + "---\n" + Yamls.service("reviews-v2", "default", SERVICE_PORT, mesh.port, null)
        + Yamls.endpoints("reviews-v2", "default", mesh.port, V2));
    mesh.controlPlane.registry().flush();
    await().atMost(Duration.ofSeconds(60)).until(() -> mesh.controlPlane.registry().current()
        .service("reviews-v2.default.svc.cluster.local") != null);
  }

  @AfterEach
  void stop() throws Exception {
    mesh.close();
  }

  @Test
  void anHttpRouteOnTheServiceSendsTheTestersToV2AndSplitsEveryoneElseByWeight() throws Exception {
    mesh.write("route.yaml", """
        apiVersion: gateway.networking.k8s.io/v1
        kind: HTTPRoute
        metadata: {name: reviews, namespace: default}
        spec:
          parentRefs: [{group: "", kind: Service, name: reviews, port: %d}]
          rules:
          - matches: [{headers: [{name: end-user, value: jason}]}]
            backendRefs: [{name: reviews-v2, port: %d}]
          - backendRefs:
            - {name: reviews-v1, port: %d, weight: 75}
            - {name: reviews-v2, port: %d, weight: 25}
        """.formatted(SERVICE_PORT, SERVICE_PORT, SERVICE_PORT, SERVICE_PORT));
    ManagedChannel client = mesh.client("default", HOST, SERVICE_PORT);
    SingleClusterTest.awaitOnly(client, Map.of("end-user", "jason"), V2[0]);
    assertThat(Mesh.spread(client, 50, Map.of("end-user", "jason"))).containsOnlyKeys(V2[0]);
    await().atMost(Duration.ofSeconds(60)).until(() -> Mesh.spread(client, 40, Map.of()).size() == 2);
    Map<String, Integer> counts = Mesh.spread(client, 800, Map.of("end-user", "other"));
    double v2 = counts.getOrDefault(V2[0], 0) / 800.0;
    // 25% by weight; 800 calls put the share within about 0.03 of it (one standard deviation 0.015).
    assertThat(v2).as("share of v2 in %s", counts).isBetween(0.18, 0.32);
  }

  @Test
  void aGrpcRouteMatchesTheMethodAndAHeader() throws Exception {
    mesh.write("route.yaml", """
        apiVersion: gateway.networking.k8s.io/v1
        kind: GRPCRoute
        metadata: {name: reviews, namespace: default}
        spec:
          parentRefs: [{group: "", kind: Service, name: reviews}]
          rules:
          - matches:
            - method: {service: weft.demo.Echo, method: Who}
              headers: [{name: x-canary, value: "true"}]
            backendRefs: [{name: reviews-v2, port: %d}]
          - matches: [{method: {service: weft.demo.Echo}}]
            backendRefs: [{name: reviews-v1, port: %d}]
        """.formatted(SERVICE_PORT, SERVICE_PORT));
    ManagedChannel client = mesh.client("default", HOST, SERVICE_PORT);
    SingleClusterTest.awaitOnly(client, Map.of(), V1[0]);
    SingleClusterTest.awaitOnly(client, Map.of("x-canary", "true"), V2[0]);
    assertThat(Mesh.spread(client, 30, Map.of("x-canary", "true"))).containsOnlyKeys(V2[0]);
    assertThat(Mesh.spread(client, 30, Map.of())).containsOnlyKeys(V1[0]);

    // A route whose method matches nothing the client calls leaves the call without a route.
    mesh.write("route.yaml", """
        apiVersion: gateway.networking.k8s.io/v1
        kind: GRPCRoute
        metadata: {name: reviews, namespace: default}
        spec:
          parentRefs: [{group: "", kind: Service, name: reviews}]
          rules:
          - matches: [{method: {service: other.Service}}]
            backendRefs: [{name: reviews-v2, port: %d}]
        """.formatted(SERVICE_PORT));
    await().atMost(Duration.ofSeconds(60)).until(() -> {
      try {
        Mesh.call(client);
        return false;
      } catch (io.grpc.StatusRuntimeException e) {
        return e.getStatus().getCode() == io.grpc.Status.Code.UNAVAILABLE;
      }
    });
  }
}
