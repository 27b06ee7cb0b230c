package weft.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.xds.shaded.io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import weft.agent.WeftAgent.AgentException;
import weft.agent.bootstrap.BootstrapInstaller;
import weft.agent.bootstrap.XdsTransport;
import weft.agent.cert.IssuedCertificate;
import weft.agent.cert.RetryPolicy;
import weft.agent.testing.RecordingAds;
import weft.agent.testing.TestMesh;
import weft.security.ca.Pem;

/** The agent as an application embeds it, and as {@code weft agent} runs it. */
class WeftAgentTest {
  @TempDir Path tmp;

  private static AgentOptions.Builder options(TestMesh mesh, Path out) {
    return AgentOptions.builder().identity(TestMesh.frontend()).caAddress(mesh.address())
        .rootCertificateFile(mesh.rootFile).token(TestMesh.FRONTEND_TOKEN).outputDir(out)
        .startTimeout(Duration.ofSeconds(20));
  }

  @Test
  void embeddedAgentInstallsABootstrapThatGrpcUsesToReachTheControlPlaneOverMutualTls() throws Exception {
    RecordingAds ads = new RecordingAds();
    Path out = tmp.resolve("out");
    try (TestMesh mesh = TestMesh.start(tmp, Clock.systemUTC(), ads.definition());
        WeftAgent agent = WeftAgent.start(options(mesh, out).xdsServer(mesh.address(), XdsTransport.MUTUAL_TLS).build())) {
      assertThat(System.getProperty(BootstrapInstaller.CONFIG_PROPERTY)).isEqualTo(agent.bootstrap().toJson());
      IssuedCertificate cert = agent.certificates().current().orElseThrow();
      assertThat(TestMesh.uris(cert.leaf())).containsExactly("URI:" + TestMesh.FRONTEND_SPIFFE);

      // The application: a proxyless client; gRPC finds the bootstrap on its own.
      ManagedChannel app = Grpc.newChannelBuilder("xds:///echo.default.svc.cluster.local:8080",
          InsecureChannelCredentials.create()).build();
      try {
        app.getState(true);
        DiscoveryRequest lds = ads.requests.poll(20, TimeUnit.SECONDS);
        assertThat(lds).as("grpc-java dialled the control plane named in the installed bootstrap").isNotNull();
        assertThat(lds.getNode().getId()).isEqualTo("sidecar~10.0.0.5~frontend-7d4b9.default~default.svc.cluster.local");
        assertThat(lds.getNode().getMetadata().getFieldsMap().get("SERVICE_ACCOUNT").getStringValue()).isEqualTo("frontend");
        assertThat(lds.getResourceNamesList()).contains("echo.default.svc.cluster.local:8080");
        // Over TLS checked against the mesh root, with the workload's own certificate as the client's.
        assertThat(ads.peers).isNotEmpty();
        X509Certificate client = (X509Certificate) ads.peers.get(0).get(0);
        assertThat(TestMesh.uris(client)).containsExactly("URI:" + TestMesh.FRONTEND_SPIFFE);
      } finally {
        app.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      }
    }
    assertThat(System.getProperty(BootstrapInstaller.CONFIG_PROPERTY)).isNull();
  }

  @Test
  void standaloneAgentWritesTheBootstrapFileAndLeavesThisProcessAlone() throws Exception {
    Path out = tmp.resolve("out");
    try (TestMesh mesh = TestMesh.start(tmp, Clock.systemUTC());
        WeftAgent agent = WeftAgent.startStandalone(options(mesh, out)
            .xdsServer("istiod.istio-system.svc:15010", XdsTransport.PLAINTEXT).certTtl(Duration.ofHours(1)).build())) {
      assertThat(System.getProperty(BootstrapInstaller.CONFIG_PROPERTY)).isNull();
      assertThat(agent.bootstrapFile()).isEqualTo(out.toAbsolutePath().resolve("grpc-bootstrap.json"));
      ObjectMapper json = new ObjectMapper();
      assertThat(json.readTree(agent.bootstrapFile().toFile())).isEqualTo(json.readTree(agent.bootstrap().toJson()));
      var doc = json.readTree(agent.bootstrapFile().toFile());
      assertThat(doc.at("/certificate_providers/default/config/certificate_file").asText())
          .isEqualTo(out.toAbsolutePath().resolve("cert-chain.pem").toString());
      // one hour, replaced after 30 minutes: the remaining half read ten times, every three minutes
      assertThat(doc.at("/certificate_providers/default/config/refresh_interval").asText()).isEqualTo("180s");
      X509Certificate leaf = Pem.readCertificates(out.resolve("cert-chain.pem")).get(0);
      assertThat(IssuedCertificate.keyMatches(Pem.readPrivateKey(out.resolve("key.pem")), leaf)).isTrue();
    }
  }

  @Test
  void runStandaloneKeepsGoingUntilInterrupted() throws Exception {
    Path out = tmp.resolve("out");
    try (TestMesh mesh = TestMesh.start(tmp, Clock.systemUTC())) {
      Thread runner = new Thread(() -> {
        try {
          WeftAgent.runStandalone(options(mesh, out).xdsServer("cp:15010", XdsTransport.PLAINTEXT).build());
        } catch (InterruptedException e) {
          // how it is stopped
        }
      });
      runner.start();
      org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(60))
          .until(() -> Files.exists(out.resolve("grpc-bootstrap.json")));
      assertThat(runner.isAlive()).isTrue();
      runner.interrupt();
      runner.join(10_000);
      assertThat(runner.isAlive()).isFalse();
    }
  }

  @Test
  void startFailsWithTheCasReasonWhenItRefusesTheToken() throws Exception {
    Path out = tmp.resolve("out");
    try (TestMesh mesh = TestMesh.start(tmp, Clock.systemUTC())) {
      AgentOptions o = options(mesh, out).token("not-a-token").xdsServer("cp:15010", XdsTransport.PLAINTEXT)
          .startTimeout(Duration.ofSeconds(2))
          .retryPolicy(new RetryPolicy(Duration.ofMillis(100), Duration.ofMillis(400), 2, 0)).build();
      assertThatThrownBy(() -> WeftAgent.start(o))
          .isInstanceOf(AgentException.class)
          .hasMessageContaining("no workload certificate for " + TestMesh.FRONTEND_SPIFFE)
          .hasMessageContaining("UNAUTHENTICATED")
          .hasMessageContaining("CA " + mesh.address());
      assertThat(System.getProperty(BootstrapInstaller.CONFIG_PROPERTY)).isNull();
      assertThat(Files.exists(out.resolve("cert-chain.pem"))).isFalse();
    }
  }

  @Test
  void startRefusesWhenGrpcWouldReadItsBootstrapElsewhere() throws Exception {
    System.setProperty(BootstrapInstaller.FILE_PROPERTY, "/etc/istio/proxy/grpc-bootstrap.json");
    try (TestMesh mesh = TestMesh.start(tmp, Clock.systemUTC())) {
      assertThatThrownBy(() -> WeftAgent.start(options(mesh, tmp.resolve("out"))
          .xdsServer("cp:15010", XdsTransport.PLAINTEXT).build()))
          .isInstanceOf(AgentException.class)
          .hasMessageContaining("system property io.grpc.xds.bootstrap");
    } finally {
      System.clearProperty(BootstrapInstaller.FILE_PROPERTY);
    }
  }

  @Test
  void refreshIntervalFollowsTheCertificatesLifetime() throws Exception {
    Path out = tmp.resolve("out");
    try (TestMesh mesh = TestMesh.start(tmp, Clock.systemUTC());
        WeftAgent agent = WeftAgent.startStandalone(options(mesh, out).xdsServer("cp:15010", XdsTransport.PLAINTEXT)
            .build())) {
      IssuedCertificate day = agent.certificates().current().orElseThrow();
      assertThat(WeftAgent.refreshFor(day, 0.5)).isEqualTo(Duration.ofMinutes(10)); // grpc-java's default, the cap
      assertThat(WeftAgent.refreshFor(day, 0.99)).isEqualTo(Duration.ofSeconds(86));
    }
  }

  @Test
  void identityValidatesWhatGoesIntoTheNodeIdAndCertificate() {
    assertThatThrownBy(() -> WorkloadIdentity.builder().namespace("default").serviceAccount("Front_End")
        .podName("p").ip("10.0.0.1").build()).hasMessageContaining("service account 'Front_End'");
    assertThatThrownBy(() -> WorkloadIdentity.builder().namespace("default").serviceAccount("frontend")
        .podName("p~q").ip("10.0.0.1").build()).hasMessageContaining("pod name 'p~q'");
    assertThat(TestMesh.frontend().spiffeId().toString()).isEqualTo(TestMesh.FRONTEND_SPIFFE);
    assertThat(List.of(TestMesh.frontend().nodeId()))
        .containsExactly("sidecar~10.0.0.5~frontend-7d4b9.default~default.svc.cluster.local");
  }
}
