package weft.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.grpc.InsecureServerCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.xds.XdsServerBuilder;
import io.grpc.xds.XdsServerCredentials;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import weft.agent.bootstrap.XdsBootstrap;
import weft.agent.bootstrap.XdsTransport;
import weft.agent.cert.CertificateFiles;
import weft.agent.cert.CertificateManager;
import weft.controlplane.ControlPlane;
import weft.registry.ServiceView;
import weft.registry.WorkloadEndpoint;

/**
 * WorkloadGroup auto-registration end to end: a grpc-java proxyless server with no EndpointSlice or
 * WorkloadEntry behind it names the group in its node metadata (AUTO_REGISTER_GROUP) and connects to
 * the secure port with its workload certificate; the control plane registers it from the group's
 * template, a proxyless client reaches it through the Service that selects the group's labels, and
 * the entry goes a grace period after the server disconnects. A workload of another service account
 * naming the group, and a group that does not exist, are refused.
 */
class WorkloadGroupRegistrationTest {
  static final String HOST = IdentityAndTrustTest.HOST;
  final IdentityAndTrustTest mesh = new IdentityAndTrustTest();

  @AfterEach
  void stop() throws Exception {
    mesh.stop();
  }

  void writeConfig() throws Exception {
    mesh.configDir = Files.createTempDirectory("weft-autoreg");
    mesh.port = Mesh.freePort();
    Files.writeString(mesh.configDir.resolve("reviews.yaml"), Yamls.service("reviews", "default", 9080, mesh.port, null)
        + """
        ---
        apiVersion: networking.istio.io/v1
        kind: WorkloadGroup
        metadata: {name: reviews, namespace: default}
        spec:
          metadata:
            labels: {app: reviews, security.istio.io/tlsMode: istio}
          template:
            serviceAccount: reviews
            ports: {grpc: %d}
        """.formatted(mesh.port));
  }

  /** The bootstrap the agent writes for the secure port, naming the group. */
  static Map<String, Object> joining(ControlPlane cp, String serviceAccount, CertificateManager certs, String group) {
    CertificateFiles f = certs.files();
    return XdsBootstrap.builder().xdsServer("localhost:" + cp.securePort(), XdsTransport.MUTUAL_TLS)
        .identity(IdentityAndTrustTest.identity(serviceAccount))
        .certificateFiles(f.certificateChainFile(), f.privateKeyFile(), f.rootCertificateFile())
        .refreshInterval(Duration.ofSeconds(1)).metadata("AUTO_REGISTER_GROUP", group).build().toMap();
  }

  Server server(Map<String, Object> bootstrap, int port) throws Exception {
    Server s = XdsServerBuilder.forPort(port, XdsServerCredentials.create(InsecureServerCredentials.create()))
        .overrideBootstrapForTest(bootstrap).addService(IdentityAndTrustTest.whoCalls()).build().start();
    mesh.servers.add(s);
    return s;
  }

  /** An xDS server whose start() blocks until it is served: started on a daemon thread, shut down after the test. */
  void refusedServer(Map<String, Object> bootstrap) throws Exception {
    Server s = XdsServerBuilder.forPort(Mesh.freePort(), XdsServerCredentials.create(InsecureServerCredentials.create()))
        .overrideBootstrapForTest(bootstrap).addService(IdentityAndTrustTest.whoCalls()).build();
    mesh.servers.add(s);
    Thread t = new Thread(() -> {
      try {
        s.start();
      } catch (Exception | Error e) {
        // shut down before it was ever served: expected
      }
    }, "refused-xds-server");
    t.setDaemon(true);
    t.start();
  }

  static List<String> endpoints(ControlPlane cp) {
    ServiceView v = cp.registry().current().service(HOST);
    return v == null ? List.of() : v.endpoints().stream().map(WorkloadEndpoint::address).toList();
  }

  static double rejectedStreams(ControlPlane cp) throws Exception {
    return IdentityAndTrustTest.http(cp, "/metrics").lines().filter(l -> l.startsWith("weft_xds_rejected_streams_total "))
        .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1))).sum();
  }

  @Test
  void aProxylessServerJoinsItsGroupIsReachedAndLeavesAfterItDisconnects() throws Exception {
    writeConfig();
    ControlPlane cp = mesh.controlPlane(Files.createTempDirectory("weft-ca"));
    cp.ads().autoRegistration().gracePeriod(Duration.ofSeconds(1));
    assertThat(endpoints(cp)).isEmpty();

    Server reviews = server(joining(cp, "reviews", mesh.certificates(cp, "reviews", Duration.ofHours(1)), "reviews"),
        mesh.port);
    await().atMost(Duration.ofSeconds(60)).until(() -> endpoints(cp).equals(List.of("127.0.0.1")));
    assertThat(cp.ads().autoRegistration().entries()).singleElement().satisfies(e -> {
      assertThat(e.id().name()).isEqualTo("reviews-127.0.0.1");
      assertThat(e.spec().labels()).containsEntry("istio.io/autoRegistrationGroup", "reviews");
      assertThat(e.spec().ports()).containsEntry("grpc", mesh.port);
    });

    ManagedChannel frontend = mesh.client(cp, "frontend", mesh.certificates(cp, "frontend", Duration.ofHours(1)));
    await().atMost(Duration.ofSeconds(60)).ignoreExceptions()
        .until(() -> IdentityAndTrustTest.call(frontend).equals("spiffe://cluster.local/ns/default/sa/frontend"));

    // The server goes away: its stream closes and, a grace period later, so does its entry.
    reviews.shutdownNow();
    reviews.awaitTermination();
    await().atMost(Duration.ofSeconds(60)).until(() -> endpoints(cp).isEmpty());
    assertThat(cp.ads().autoRegistration().entries()).isEmpty();
  }

  @Test
  void anotherServiceAccountOrAMissingGroupIsRefused() throws Exception {
    writeConfig();
    ControlPlane cp = mesh.controlPlane(Files.createTempDirectory("weft-ca"));
    double before = rejectedStreams(cp);
    // "other" holds a valid certificate, for its own account: its metadata cannot make it reviews.
    // A refused xDS server never gets its listener, so grpc-java's start() waits for ever: start in the background.
    refusedServer(joining(cp, "other", mesh.certificates(cp, "other", Duration.ofHours(1)), "reviews"));
    await().atMost(Duration.ofSeconds(60)).until(() -> rejectedStreams(cp) > before);
    double afterForged = rejectedStreams(cp);
    refusedServer(joining(cp, "reviews", mesh.certificates(cp, "reviews", Duration.ofHours(1)), "no-such-group"));
    await().atMost(Duration.ofSeconds(60)).until(() -> rejectedStreams(cp) > afterForged);
    assertThat(endpoints(cp)).isEmpty();
    assertThat(cp.ads().autoRegistration().entries()).isEmpty();
    assertThat(IdentityAndTrustTest.http(cp, "/debug/status")).doesNotContain("reviews-127.0.0.1");
  }
}
