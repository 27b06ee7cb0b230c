package weft.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.google.protobuf.StringValue;
import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ClientCalls;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import weft.demo.EchoService;

/** The seed's "Location-aware routing and fail over": nearest endpoints first, then the next nearest. */
class LocalityFailoverTest {
  static final String HOST = "reviews.default.svc.cluster.local";
  Mesh mesh;

  @BeforeEach
  void start() throws Exception {
    mesh = new Mesh();
  }

  @AfterEach
  void stop() throws Exception {
    mesh.close();
  }

  /** Endpoints in three localities; {@code ready} false marks the last one not ready. */
  private String endpoints(boolean zoneAReady) {
    return Yamls.service("reviews", "default", 9080, mesh.port, null) + """
        ---
        apiVersion: discovery.k8s.io/v1
        kind: EndpointSlice
        metadata:
          name: reviews-slice
          namespace: default
          labels: {kubernetes.io/service-name: reviews}
        addressType: IPv4
        ports: [{name: grpc, port: %d}]
        endpoints:
        - {addresses: ["127.0.0.1"], conditions: {ready: %s}, targetRef: {kind: Pod, name: zone-a}}
        - {addresses: ["127.0.0.2"], targetRef: {kind: Pod, name: zone-b}}
        - {addresses: ["127.0.0.3"], targetRef: {kind: Pod, name: west}}
        ---
        apiVersion: v1
        kind: Pod
        metadata: {name: zone-a, namespace: default, labels: {app: reviews, istio-locality: us-east.zone-a}}
        status: {podIP: 127.0.0.1, phase: Running}
        ---
        apiVersion: v1
        kind: Pod
        metadata: {name: zone-b, namespace: default, labels: {app: reviews, istio-locality: us-east.zone-b}}
        status: {podIP: 127.0.0.2, phase: Running}
        ---
        apiVersion: v1
        kind: Pod
        metadata: {name: west, namespace: default, labels: {app: reviews, istio-locality: us-west.zone-c}}
        status: {podIP: 127.0.0.3, phase: Running}
        """.formatted(mesh.port, zoneAReady);
  }

  private static final String OUTLIER_DETECTION = """
      apiVersion: networking.istio.io/v1
      kind: DestinationRule
      metadata: {name: reviews, namespace: default}
      spec:
        host: reviews
        trafficPolicy:
          outlierDetection: {consecutive5xxErrors: 1, interval: 1s, baseEjectionTime: 30s}
      """;

  /** Calls that wait for a ready endpoint instead of failing: only RPCs in flight could fail. */
  static Map<String, Integer> spread(ManagedChannel client, int n) {
    Map<String, Integer> counts = new TreeMap<>();
    for (int i = 0; i < n; i++) {
      String who = ClientCalls.blockingUnaryCall(client, EchoService.WHO,
          CallOptions.DEFAULT.withWaitForReady().withDeadlineAfter(20, TimeUnit.SECONDS), StringValue.of("hi")).getValue();
      counts.merge(who, 1, Integer::sum);
    }
    return counts;
  }

  @Test
  void trafficStaysInTheClientsZoneThenFailsOverToTheNextZoneThenRegionAndComesBack() throws Exception {
    Server zoneA = mesh.echo("zone-a", "127.0.0.1");
    Server zoneB = mesh.echo("zone-b", "127.0.0.2");
    mesh.echo("west", "127.0.0.3");
    mesh.write("reviews.yaml", endpoints(true));
    mesh.write("reviews-dr.yaml", OUTLIER_DETECTION);
    ManagedChannel client = mesh.client("default", HOST, 9080, "cluster1", "us-east/zone-a");
    await().atMost(Duration.ofSeconds(60)).until(() -> spread(client, 30).keySet().equals(Set.of("zone-a")));
    assertThat(spread(client, 200)).containsOnlyKeys("zone-a");

    zoneA.shutdownNow().awaitTermination();
    await().atMost(Duration.ofSeconds(60)).until(() -> spread(client, 20).keySet().equals(Set.of("zone-b")));
    zoneB.shutdownNow().awaitTermination();
    await().atMost(Duration.ofSeconds(60)).until(() -> spread(client, 20).keySet().equals(Set.of("west")));

    mesh.echo("zone-a", "127.0.0.1");
    await().atMost(Duration.ofSeconds(60)).until(() -> spread(client, 20).keySet().equals(Set.of("zone-a")));
  }

  @Test
  void withoutOutlierDetectionEveryEndpointSharesTheLoadAndAWarningIsShown() throws Exception {
    for (String[] w : new String[][] {{"zone-a", "127.0.0.1"}, {"zone-b", "127.0.0.2"}, {"west", "127.0.0.3"}}) {
      mesh.echo(w[0], w[1]);
    }
    mesh.write("reviews.yaml", endpoints(true));
    mesh.write("reviews-dr.yaml", """
        apiVersion: networking.istio.io/v1
        kind: DestinationRule
        metadata: {name: reviews, namespace: default}
        spec:
          host: reviews
          trafficPolicy:
            loadBalancer:
              localityLbSetting:
                failover: [{from: us-east, to: us-west}]
        """);
    ManagedChannel client = mesh.client("default", HOST, 9080, "cluster1", "us-east/zone-a");
    await().atMost(Duration.ofSeconds(60)).until(() -> spread(client, 60).keySet().size() == 3);
    assertThat(mesh.debugStatus()).contains("sets no outlierDetection");
  }

  @Test
  void distributeSeventyThirtyIsObservedWithinFivePercent() throws Exception {
    for (String[] w : new String[][] {{"zone-a", "127.0.0.1"}, {"zone-b", "127.0.0.2"}, {"west", "127.0.0.3"}}) {
      mesh.echo(w[0], w[1]);
    }
    mesh.write("reviews.yaml", endpoints(true));
    mesh.write("reviews-dr.yaml", """
        apiVersion: networking.istio.io/v1
        kind: DestinationRule
        metadata: {name: reviews, namespace: default}
        spec:
          host: reviews
          trafficPolicy:
            loadBalancer:
              localityLbSetting:
                distribute:
                - from: us-east/zone-a/*
                  to: {"us-east/zone-a/*": 70, "us-west/*": 30}
        """);
    ManagedChannel client = mesh.client("default", HOST, 9080, "cluster1", "us-east/zone-a");
    await().atMost(Duration.ofSeconds(60)).until(() -> spread(client, 60).keySet().equals(Set.of("zone-a", "west")));
    Map<String, Integer> counts = spread(client, 2000);
    assertThat(counts.get("zone-a") / 2000.0).isBetween(0.65, 0.75);
    assertThat(counts.get("west") / 2000.0).isBetween(0.25, 0.35);
  }

  @Test
  void anEndpointWhoseReadinessGoesFalseStopsReceivingTraffic() throws Exception {
    for (String[] w : new String[][] {{"zone-a", "127.0.0.1"}, {"zone-b", "127.0.0.2"}, {"west", "127.0.0.3"}}) {
      mesh.echo(w[0], w[1]);
    }
    mesh.write("reviews.yaml", endpoints(true));
    ManagedChannel client = mesh.client("default", HOST, 9080, "cluster1", "us-east/zone-a");
    await().atMost(Duration.ofSeconds(60)).until(() -> spread(client, 60).containsKey("zone-a"));
    mesh.write("reviews.yaml", endpoints(false));
    await().atMost(Duration.ofSeconds(60)).until(() -> !spread(client, 60).containsKey("zone-a"));
    try {
      assertThat(spread(client, 300)).doesNotContainKey("zone-a").containsKeys("zone-b", "west");
    } catch (StatusRuntimeException e) {
      throw new AssertionError("calls failed after readiness changed", e);
    }
  }
}
