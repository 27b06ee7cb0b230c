package weft.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.grpc.InsecureServerCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.xds.XdsServerBuilder;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import weft.demo.EchoService;
import weft.demo.GrpcBootstrap;

/** An xDS-enabled grpc-java server gets its inbound listener; a client that rejects config keeps the old. */
class ProxylessServerAndNackTest {
  Mesh mesh;

  @BeforeEach
  void start() throws Exception {
    mesh = new Mesh();
    mesh.echo("reviews-v1", "127.0.0.1");
    mesh.echo("reviews-v2", "127.0.0.2");
    mesh.write("reviews.yaml", Yamls.service("reviews", "default", 9080, mesh.port, null)
        + Yamls.endpoints("reviews", "default", mesh.port, new String[] {"reviews-v1", "127.0.0.1", "v1"},
            new String[] {"reviews-v2", "127.0.0.2", "v2"}));
    mesh.write("reviews-dr.yaml", Yamls.subsets("reviews", "default"));
    mesh.controlPlane.registry().flush();
    await().atMost(Duration.ofSeconds(60)).until(() ->
        mesh.controlPlane.registry().current().config().destinationRules().size() == 1);
  }

  @AfterEach
  void stop() throws Exception {
    mesh.close();
  }

  @Test
  void xdsServerReceivesItsInboundListenerAndServes() throws Exception {
    int port = Mesh.freePort();
    CountDownLatch serving = new CountDownLatch(1);
    Map<String, Object> bootstrap = GrpcBootstrap.of("localhost:" + mesh.controlPlane.xdsPort(), "ratings-1",
        "default", "127.0.0.1", "cluster1", "", Map.of("app", "ratings"));
    Server server = XdsServerBuilder.forPort(port, InsecureServerCredentials.create())
        .overrideBootstrapForTest(bootstrap)
        .addService(EchoService.named("xds-server"))
        .xdsServingStatusListener(new XdsServerBuilder.XdsServingStatusListener() {
          @Override
          public void onServing() {
            serving.countDown();
          }

          @Override
          public void onNotServing(Throwable throwable) {}
        })
        .build()
        .start();
    try {
      assertThat(serving.await(15, TimeUnit.SECONDS)).as("server got its inbound listener").isTrue();
      ManagedChannel plain = NettyChannelBuilder.forAddress("127.0.0.1", port).usePlaintext().build();
      try {
        assertThat(Mesh.call(plain)).isEqualTo("xds-server");
      } finally {
        plain.shutdownNow();
      }
      assertThat(mesh.debugStatus()).contains("xds.istio.io/grpc/lds/inbound/0.0.0.0:" + port);
    } finally {
      server.shutdownNow();
    }
  }

  @Test
  void routeTheClientRejectsIsNackedCountedAndTheClientKeepsItsLastGoodRoutes() throws Exception {
    mesh.write("reviews-vs.yaml", vs("prefix: /"));
    ManagedChannel client = mesh.client("default", "reviews.default.svc.cluster.local", 9080);
    SingleClusterTest.awaitOnly(client, Map.of(), "reviews-v2");
    // Java's regex engine accepts a lookahead, Envoy's and gRPC's RE2 does not: Istio YAML that only
    // the data plane can refuse.
    mesh.write("reviews-vs.yaml", vs("regex: \"/(?=weft).*\""));
    await().atMost(Duration.ofSeconds(60)).until(() -> mesh.metrics().contains("weft_xds_nacks_total{type=\"RDS\"}"));
    // Counted as the NACK is handled; the stream's status shows it once published, right after.
    await().atMost(Duration.ofSeconds(60)).until(() -> mesh.debugStatus().contains("lastNack"));
    assertThat(Mesh.spread(client, 50, Map.of())).containsOnlyKeys("reviews-v2");
  }

  private static String vs(String uriMatch) {
    return Yamls.virtualService("reviews", """
          - match:
            - uri: {%s}
            route:
            - destination: {host: reviews, subset: v2}
        """.formatted(uriMatch));
  }
}
