package weft.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.grpc.ManagedChannel;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import weft.model.ConfigProblem;

/**
 * "Last good, whatever broke", seen by a real grpc-java xDS client: an EndpointSlice whose
 * apiVersion is broken keeps its endpoints, and the client keeps getting answers from all of them.
 */
class BadInputTest {
  static final String HOST = "reviews.default.svc.cluster.local";
  static final int SERVICE_PORT = 9080;
  static final String[] V1A = {"reviews-v1-a", "127.0.0.1", "v1"};
  static final String[] V1B = {"reviews-v1-b", "127.0.0.2", "v1"};
  static final String[] V2 = {"reviews-v2", "127.0.0.3", "v2"};

  Mesh mesh;
  String reviews;

  @BeforeEach
  void start() throws Exception {
    mesh = new Mesh();
    for (String[] w : new String[][] {V1A, V1B, V2}) mesh.echo(w[0], w[1]);
    reviews = Yamls.service("reviews", "default", SERVICE_PORT, mesh.port, null)
        + Yamls.endpoints("reviews", "default", mesh.port, V1A, V1B, V2);
    mesh.write("reviews.yaml", reviews);
    mesh.write("reviews-dr.yaml", Yamls.subsets("reviews", "default"));
    await().atMost(Duration.ofSeconds(60)).until(() -> mesh.controlPlane.registry().current()
        .service(HOST) != null && mesh.controlPlane.registry().current().config().destinationRules().size() == 1);
  }

  @AfterEach
  void stop() throws Exception {
    mesh.close();
  }

  @Test
  void endpointSliceWithAWrongApiVersionKeepsServingItsEndpoints() throws Exception {
    ManagedChannel client = mesh.client("default", HOST, SERVICE_PORT);
    SingleClusterTest.awaitOnly(client, Map.of(), V1A[0], V1B[0], V2[0]);

    mesh.write("reviews.yaml", reviews.replace("apiVersion: discovery.k8s.io/v1\n",
        "apiVersion: discovery.k8s.io/v1beta1\n"));
    await().atMost(Duration.ofSeconds(60)).until(() -> mesh.controlPlane.registry().current().problems().stream()
        .anyMatch(p -> p.severity() == ConfigProblem.Severity.ERROR && "apiVersion".equals(p.field())
            && "reviews.yaml".equals(p.file())));

    // A routing change sent on the same stream after whatever the broken edit caused: once the
    // client follows it, an endpoint withdrawal would have reached it too.
    mesh.write("reviews-vs.yaml", Yamls.split("reviews", 100, 0));
    SingleClusterTest.awaitOnly(client, Map.of(), V1A[0], V1B[0]);
    mesh.delete("reviews-vs.yaml");
    SingleClusterTest.awaitOnly(client, Map.of(), V1A[0], V1B[0], V2[0]);
    assertThat(mesh.controlPlane.registry().current().service(HOST).endpoints()).hasSize(3);
  }
}
