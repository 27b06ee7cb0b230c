package weft.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Istio's traffic-management tasks with proxyless grpc-java clients on real sockets: delegated
 * routes, header matches limited by the caller's labels, and routes grpc-java has no action for.
 */
class TrafficManagementTest {
  static final String HOST = SingleClusterTest.HOST;
  static final int SERVICE_PORT = SingleClusterTest.SERVICE_PORT;
  static final String[] V1 = {"reviews-v1", "127.0.0.1", "v1"};
  static final String[] V2 = {"reviews-v2", "127.0.0.3", "v2"};

  Mesh mesh;

  @BeforeEach
  void start() throws Exception {
    mesh = new Mesh();
    for (String[] w : new String[][] {V1, V2}) mesh.echo(w[0], w[1]);
    mesh.write("reviews.yaml", Yamls.service("reviews", "default", SERVICE_PORT, mesh.port, null)
        + Yamls.endpoints("reviews", "default", mesh.port, V1, V2));
    mesh.write("reviews-dr.yaml", Yamls.subsets("reviews", "default"));
    mesh.controlPlane.registry().flush();
    await().atMost(Duration.ofSeconds(60)).until(() -> mesh.controlPlane.registry().current()
        .service(HOST) != null && mesh.controlPlane.registry().current().config().destinationRules().size() == 1);
  }

  @AfterEach
  void stop() throws Exception {
    mesh.close();
  }

  @Test
  void aDelegatedHeaderRouteForTheCallersLabelsReachesV2AndEveryoneElseV1() throws Exception {
    mesh.write("reviews-vs.yaml", Yamls.virtualService("reviews", """
          - match:
            - headers: {end-user: {exact: jason}}
              sourceLabels: {app: client}
            delegate: {name: reviews-testers}
          - match:
            - headers: {end-user: {exact: jason}}
              sourceLabels: {app: someone-else}
            route:
            - destination: {host: reviews, subset: v1}
          - route:
            - destination: {host: reviews, subset: v1}
        """) + """
        ---
        apiVersion: networking.istio.io/v1
        kind: VirtualService
        metadata: {name: reviews-testers, namespace: default}
        spec:
          http:
          - match: [{uri: {prefix: /weft.demo.Echo/}}]
            route:
            - destination: {host: reviews, subset: v2}
        """);
    ManagedChannel client = mesh.client("default", HOST, SERVICE_PORT);
    SingleClusterTest.awaitOnly(client, Map.of("end-user", "jason"), V2[0]);
    assertThat(Mesh.spread(client, 50, Map.of("end-user", "jason"))).containsOnlyKeys(V2[0]);
    assertThat(Mesh.spread(client, 50, Map.of("end-user", "other"))).containsOnlyKeys(V1[0]);
  }

  @Test
  void aDirectResponseFailsMatchingCallsWithItsStatusAndTheStatusSaysProxylessClientsGetAnError() throws Exception {
    mesh.write("reviews-vs.yaml", Yamls.virtualService("reviews", """
          - match:
            - headers: {x-maintenance: {exact: "on"}}
            directResponse: {status: 503, body: {string: down for maintenance}}
          - route:
            - destination: {host: reviews, subset: v1}
        """));
    ManagedChannel client = mesh.client("default", HOST, SERVICE_PORT);
    SingleClusterTest.awaitOnly(client, Map.of(), V1[0]);
    await().atMost(Duration.ofSeconds(60)).until(() -> statusOf(client, Map.of("x-maintenance", "on")) != null);
    // grpc-java maps HTTP 503 to UNAVAILABLE, as it does for a 503 from Envoy's direct response.
    assertThat(statusOf(client, Map.of("x-maintenance", "on"))).isEqualTo(Status.Code.UNAVAILABLE);
    assertThat(Mesh.spread(client, 20, Map.of())).containsOnlyKeys(V1[0]);
    await().atMost(Duration.ofSeconds(60)).until(() -> mesh.debugStatus().contains(
        "spec.http[0].directResponse is honoured by Envoy sidecars and gateways; proxyless gRPC clients get its HTTP "
            + "status as an error"));
  }

  /** The status code a call fails with, or null when it succeeds. */
  private static Status.Code statusOf(ManagedChannel client, Map<String, String> headers) {
    try {
      Mesh.call(client, headers);
      return null;
    } catch (StatusRuntimeException e) {
      return e.getStatus().getCode();
    }
  }
}
