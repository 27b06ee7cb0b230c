package weft.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.NameResolverRegistry;
import io.grpc.xds.XdsChannelCredentials;
import io.grpc.xds.XdsNameResolverProvider;
import java.nio.file.Files;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import weft.agent.WorkloadIdentity;
import weft.agent.bootstrap.XdsBootstrap;
import weft.agent.bootstrap.XdsTransport;
import weft.agent.cert.CertificateFiles;
import weft.agent.cert.CertificateManager;
import weft.controlplane.ControlPlane;
import weft.gateway.Gateway;
import weft.gateway.GatewayOptions;

/**
 * The seed's "Multiple networks" on loopback: a proxyless client in network-1 calls a service
 * whose only endpoint is in network-2; Weft sends it network-2's east-west gateway with an SNI
 * naming the cluster, weft-gateway passes the TLS through, and mTLS runs end to end (the server
 * sees the client's SPIFFE identity).
 */
class CrossNetworkTest {
  final IdentityAndTrustTest mtls = new IdentityAndTrustTest();
  Gateway gateway;

  @AfterEach
  void stop() throws Exception {
    if (gateway != null) gateway.close();
    mtls.stop();
  }

  @Test
  void proxylessClientReachesAnotherNetworkThroughItsGatewayWithMtlsEndToEnd() throws Exception {
    mtls.writeMesh();
    int gatewayPort = Mesh.freePort();
    putReviewsBehindNetwork2Gateway(mtls.configDir, gatewayPort);
    ControlPlane cp = mtls.controlPlane(Files.createTempDirectory("weft-ca"));
    mtls.reviewsServer(cp, mtls.certificates(cp, "reviews", Duration.ofHours(1)));
    gateway = Gateway.start(GatewayOptions.defaults("localhost:" + cp.xdsPort(), "eastwest-1", "127.0.0.3")
        .withCluster("cluster1", "network-2").withListen("127.0.0.3", gatewayPort).withXdsListenerPort(15443)
        .withHealthPort(0));

    CertificateManager certs = mtls.certificates(cp, "frontend", Duration.ofHours(1));
    CertificateFiles f = certs.files();
    Map<String, Object> bootstrap = XdsBootstrap.builder().xdsServer("localhost:" + cp.xdsPort(), XdsTransport.PLAINTEXT)
        .identity(WorkloadIdentity.builder().trustDomain("cluster.local").namespace("default")
            .serviceAccount("frontend").podName("frontend-1").ip("127.0.0.9").clusterId("cluster1")
            .network("network-1").labels(Map.of("app", "frontend")).build())
        .certificateFiles(f.certificateChainFile(), f.privateKeyFile(), f.rootCertificateFile())
        .build().toMap();
    NameResolverRegistry.getDefaultRegistry().register(XdsNameResolverProvider.createForTest("xds-net1", bootstrap));
    ManagedChannel client = Grpc.newChannelBuilder("xds-net1:///" + IdentityAndTrustTest.HOST + ":9080",
        XdsChannelCredentials.create(InsecureChannelCredentials.create())).build();
    mtls.channels.add(client);

    await().atMost(Duration.ofSeconds(60)).ignoreExceptions()
        .until(() -> IdentityAndTrustTest.call(client).equals("spiffe://cluster.local/ns/default/sa/frontend"));
    for (int i = 0; i < 50; i++) {
      assertThat(IdentityAndTrustTest.call(client)).isEqualTo("spiffe://cluster.local/ns/default/sa/frontend");
    }
    assertThat(gateway.stats().total()).as("connections passed through the gateway").isPositive();
  }

  /**
   * Moves reviews' only endpoint to network-2, whose east-west gateway (selected by a Gateway with an
   * AUTO_PASSTHROUGH server on 15443) is reachable at 127.0.0.3:{@code gatewayPort}.
   */
  static void putReviewsBehindNetwork2Gateway(java.nio.file.Path configDir, int gatewayPort) throws java.io.IOException {
    Files.writeString(configDir.resolve("reviews.yaml"), Files.readString(configDir.resolve("reviews.yaml"))
        .replace("labels: {app: reviews, security.istio.io/tlsMode: istio}",
            "labels: {app: reviews, security.istio.io/tlsMode: istio, topology.istio.io/network: network-2}")
        + """
        ---
        apiVersion: v1
        kind: Service
        metadata:
          name: istio-eastwestgateway
          namespace: istio-system
          labels: {topology.istio.io/network: network-2, networking.istio.io/gatewayPort: "%d", istio: eastwestgateway}
        spec:
          externalIPs: [127.0.0.3]
          ports: [{name: tls, port: 15443}]
        ---
        apiVersion: networking.istio.io/v1
        kind: Gateway
        metadata: {name: cross-network-gateway, namespace: istio-system}
        spec:
          selector: {istio: eastwestgateway}
          servers:
          - port: {number: 15443, name: tls, protocol: TLS}
            tls: {mode: AUTO_PASSTHROUGH}
            hosts: ["*.local"]
        """.formatted(gatewayPort));
  }
}
