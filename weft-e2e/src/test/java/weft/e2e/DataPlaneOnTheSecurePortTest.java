package weft.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.grpc.ManagedChannel;
import java.io.ByteArrayOutputStream;
import java.io.PrintWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import weft.agent.AgentOptions;
import weft.agent.WeftAgent;
import weft.agent.WorkloadIdentity;
import weft.agent.bootstrap.XdsTransport;
import weft.cli.Main;
import weft.controlplane.ControlPlane;
import weft.controlplane.ControlPlaneOptions;
import weft.security.auth.XdsAuthMode;
import weft.security.ca.Pem;

/**
 * Issue 13, item 2: the data-plane pieces take their xDS over the secure port with their own
 * certificates, on a control plane that accepts nothing else ({@code --xds-auth certificate}). The real
 * {@code weft gateway} command gets its certificate from the CA and its router config with it; the
 * reviews server dials the secure port itself ({@code --xds-mtls}: the bootstrap's mutual TLS); the
 * frontend goes through the agent's local xDS proxy, whose upstream presents the workload certificate.
 * The frontend then calls reviews in network-2 through that gateway with mTLS end to end.
 */
class DataPlaneOnTheSecurePortTest {
  private static final String GATEWAY = "spiffe://cluster.local/ns/istio-system/sa/istio-eastwestgateway";
  private static final String FRONTEND = "spiffe://cluster.local/ns/default/sa/frontend";
  final IdentityAndTrustTest mtls = new IdentityAndTrustTest();
  private Thread gatewayCommand;
  private final AtomicInteger gatewayExit = new AtomicInteger(-1);

  @AfterEach
  void stop() throws Exception {
    if (gatewayCommand != null) {
      gatewayCommand.interrupt();
      gatewayCommand.join(TimeUnit.SECONDS.toMillis(30));
    }
    mtls.stop();
  }

  @Test
  void theGatewayAndBothAgentPathsGetConfigOnlyWithTheirOwnCertificates() throws Exception {
    mtls.writeMesh();
    int gatewayPort = Mesh.freePort();
    CrossNetworkTest.putReviewsBehindNetwork2Gateway(mtls.configDir, gatewayPort);
    Path work = Files.createTempDirectory("weft-secure-dataplane");
    Path tokens = work.resolve("tokens.yaml");
    Files.writeString(tokens, """
        - {token: t-frontend, namespace: default, serviceAccount: frontend}
        - {token: t-reviews, namespace: default, serviceAccount: reviews}
        - {token: t-eastwest, namespace: istio-system, serviceAccount: istio-eastwestgateway}
        """);
    ControlPlane cp = ControlPlane.start(ControlPlaneOptions.forConfigDir(mtls.configDir).withPorts(0, 0)
        .withCa(new ControlPlaneOptions.Ca(work.resolve("ca"), tokens, 0).withXdsAuth(XdsAuthMode.CERTIFICATE)));
    mtls.closeables.add(0, cp);
    String secure = "localhost:" + cp.securePort();
    Path root = work.resolve("root-cert.pem");
    Files.writeString(root, Pem.encode(cp.ca().roots()));

    // reviews dials the secure port itself, presenting its certificate (the agent's --xds-mtls bootstrap).
    mtls.reviewsServer(IdentityAndTrustTest.secureBootstrap(cp, "reviews",
        mtls.certificates(cp, "reviews", Duration.ofHours(1))));

    // The real command, as an operator runs it.
    Path gatewayToken = work.resolve("gateway-token");
    Files.writeString(gatewayToken, "t-eastwest\n");
    int health = Mesh.freePort();
    ByteArrayOutputStream gatewayErr = new ByteArrayOutputStream();
    gatewayCommand = new Thread(() -> gatewayExit.set(new CommandLine(new Main())
        .setErr(new PrintWriter(gatewayErr, true, StandardCharsets.UTF_8))
        .execute("gateway", "--ip", "127.0.0.3", "--pod-name", "eastwest-1", "--cluster-id", "cluster1",
            "--network", "network-2", "--port", String.valueOf(gatewayPort), "--health-port", String.valueOf(health),
            "--xds-address", secure, "--ca-address", secure, "--token-file", gatewayToken.toString(),
            "--root-cert", root.toString())), "weft-gateway-command");
    gatewayCommand.start();
    await().atMost(Duration.ofSeconds(90)).ignoreExceptions()
        .until(() -> stats(health).contains("\"xdsConnected\":true") && !stats(health).contains("\"routes\":0,"));
    assertThat(gatewayErr.toString(StandardCharsets.UTF_8)).contains("xDS over mutual TLS as " + GATEWAY);

    // frontend through the agent's xDS proxy, whose upstream is mutual TLS with the workload certificate.
    WeftAgent agent = WeftAgent.startStandalone(AgentOptions.builder()
        .identity(WorkloadIdentity.builder().trustDomain("cluster.local").namespace("default")
            .serviceAccount("frontend").podName("frontend-1").ip("127.0.0.9").clusterId("cluster1")
            .network("network-1").labels(Map.of("app", "frontend")).build())
        .xdsServers(List.of(secure), XdsTransport.MUTUAL_TLS).xdsProxyPort(0)
        .caAddresses(List.of(secure)).rootCertificateFile(root).token("t-frontend")
        .outputDir(work.resolve("frontend")).startTimeout(Duration.ofSeconds(60)).build());
    mtls.closeables.add(0, agent);
    ManagedChannel client = mtls.client(agent.bootstrap().toMap());
    await().atMost(Duration.ofSeconds(90)).ignoreExceptions()
        .until(() -> IdentityAndTrustTest.call(client).equals(FRONTEND));
    for (int i = 0; i < 20; i++) assertThat(IdentityAndTrustTest.call(client)).isEqualTo(FRONTEND);
    assertThat(stats(health)).doesNotContain("\"connectionsTotal\":0");

    String status = IdentityAndTrustTest.http(cp, "/debug/status");
    assertThat(status).contains(GATEWAY + " (client certificate)").contains(FRONTEND + " (client certificate)")
        .contains("spiffe://cluster.local/ns/default/sa/reviews (client certificate)");
    assertThat(gatewayCommand.isAlive()).as("the gateway runs until stopped").isTrue();

    // A workload's token makes a valid certificate, but not a router's: the secure port refuses the stream.
    assertThat(IdentityAndTrustTest.http(cp, "/metrics").lines()
        .filter(l -> l.startsWith("weft_xds_rejected_streams_total "))).as("no stream refused so far")
        .allMatch(l -> l.endsWith(" 0.0"));
    Path workloadToken = work.resolve("frontend-token");
    Files.writeString(workloadToken, "t-frontend\n");
    int impostorHealth = Mesh.freePort();
    Thread impostor = new Thread(() -> new CommandLine(new Main()).setErr(new PrintWriter(new ByteArrayOutputStream(),
        true, StandardCharsets.UTF_8)).execute("gateway", "--ip", "127.0.0.4", "--namespace", "default",
        "--service-account", "frontend", "--pod-name", "fake-gw", "--port", "0", "--health-port",
        String.valueOf(impostorHealth), "--xds-address", secure, "--token-file", workloadToken.toString(),
        "--root-cert", root.toString()), "weft-gateway-impostor");
    impostor.start();
    try {
      await().atMost(Duration.ofSeconds(90)).until(() -> IdentityAndTrustTest.http(cp, "/metrics").lines()
          .anyMatch(l -> l.startsWith("weft_xds_rejected_streams_total ") && !l.endsWith(" 0.0")));
      assertThat(stats(impostorHealth)).contains("\"xdsConnected\":false").contains("\"routes\":0,");
      assertThat(IdentityAndTrustTest.http(cp, "/debug/status")).doesNotContain("fake-gw");
    } finally {
      impostor.interrupt();
      impostor.join(TimeUnit.SECONDS.toMillis(30));
    }

    gatewayCommand.interrupt();
    gatewayCommand.join(TimeUnit.SECONDS.toMillis(30));
    assertThat(gatewayExit.get()).as("weft gateway's exit code when stopped").isZero();
  }

  private static String stats(int healthPort) throws Exception {
    return HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + healthPort
        + "/stats")).build(), HttpResponse.BodyHandlers.ofString()).body();
  }
}
