package weft.agent.xdsproxy;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.NameResolverRegistry;
import io.grpc.xds.XdsNameResolverProvider;
import io.grpc.xds.shaded.io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import weft.agent.AgentOptions;
import weft.agent.WeftAgent;
import weft.agent.bootstrap.XdsTransport;
import weft.agent.testing.RecordingAds;
import weft.agent.testing.TestMesh;

/** {@code weft agent --xds-proxy-port}: a stock gRPC client reaches the secure port through the agent. */
class AgentXdsProxyTest {
  @TempDir Path tmp;

  @Test
  void aStockGrpcClientReachesTheSecurePortThroughTheProxyWithTheWorkloadCertificate() throws Exception {
    RecordingAds ads = new RecordingAds();
    String dead = deadAddress();
    try (TestMesh mesh = TestMesh.start(tmp, Clock.systemUTC(), ads.definition());
        WeftAgent agent = WeftAgent.startStandalone(AgentOptions.builder().identity(TestMesh.frontend())
            // The first CA and the first control plane are down: both fail over to the live one.
            .caAddresses(List.of(dead, mesh.address())).rootCertificateFile(mesh.rootFile)
            .token(TestMesh.FRONTEND_TOKEN).outputDir(tmp.resolve("out")).startTimeout(Duration.ofSeconds(60))
            .xdsServers(List.of(dead, mesh.address()), XdsTransport.MUTUAL_TLS).xdsProxyPort(0).build())) {
      XdsProxy proxy = agent.xdsProxy().orElseThrow();
      var server = (java.util.Map<?, ?>) ((List<?>) agent.bootstrap().toMap().get("xds_servers")).get(0);
      assertThat(server.get("server_uri")).isEqualTo("127.0.0.1:" + proxy.port());
      assertThat(server.get("channel_creds").toString()).contains("insecure");

      String scheme = "agent-proxy-test";
      NameResolverRegistry.getDefaultRegistry().register(
          XdsNameResolverProvider.createForTest(scheme, agent.bootstrap().toMap()));
      ManagedChannel app = Grpc.newChannelBuilder(scheme + ":///echo.default.svc.cluster.local:8080",
          InsecureChannelCredentials.create()).build();
      try {
        app.getState(true);
        DiscoveryRequest lds = ads.requests.poll(60, TimeUnit.SECONDS);
        assertThat(lds).as("the workload's subscription reached the control plane through the proxy").isNotNull();
        assertThat(lds.getResourceNamesList()).contains("echo.default.svc.cluster.local:8080");
        assertThat(lds.getNode().getId()).isEqualTo(TestMesh.frontend().nodeId());
        X509Certificate client = (X509Certificate) ads.peers.get(ads.peers.size() - 1).get(0);
        assertThat(TestMesh.uris(client)).containsExactly("URI:" + TestMesh.FRONTEND_SPIFFE);
        assertThat(proxy.connectedTo()).singleElement().asString().endsWith(":" + mesh.server.port());
      } finally {
        app.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      }
    }
  }

  /** An address nothing listens on: a port bound and let go. */
  private static String deadAddress() throws Exception {
    try (ServerSocket s = new ServerSocket(0)) {
      return "127.0.0.1:" + s.getLocalPort();
    }
  }
}
