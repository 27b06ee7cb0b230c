package weft.security.meshes;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import weft.security.SpiffeId;
import weft.security.ca.CaStore;
import weft.security.ca.CertificateAuthority;
import weft.security.federation.BundleEndpointServer;
import weft.security.federation.BundleTls;
import weft.security.federation.SpiffeBundle;

/**
 * The export list on the bundle port, over real TLS on loopback: the caller is who its client
 * certificate says, each peer mesh gets only what is exported to it, and nobody else gets anything.
 */
class ExportEndpointTest {
  @TempDir
  static Path tmp;
  static CertificateAuthority mesh1;
  static CertificateAuthority mesh2;
  static CertificateAuthority mesh3;
  static CertificateAuthority forger;
  final ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor();
  BundleEndpointServer server;

  @BeforeAll
  static void cas() {
    mesh1 = CaStore.loadOrCreate(tmp.resolve("1"), "mesh1.example", Clock.systemUTC());
    mesh2 = CaStore.loadOrCreate(tmp.resolve("2"), "mesh2.example", Clock.systemUTC());
    mesh3 = CaStore.loadOrCreate(tmp.resolve("3"), "mesh3.example", Clock.systemUTC());
    forger = CaStore.loadOrCreate(tmp.resolve("f"), "forger.example", Clock.systemUTC());
  }

  @AfterEach
  void stop() {
    if (server != null) server.close();
    scheduler.shutdownNow();
  }

  static ExportDocument exportedTo(String peer) {
    return new ExportDocument("mesh2", "mesh2.example", List.of(new ExportedService("only-for-" + peer, "default",
        "only-for-" + peer + ".default.svc.cluster.local", List.of(new ExportedService.Port("grpc", 9080, "GRPC")),
        List.of("spiffe://mesh2.example/ns/default/sa/c"), List.of(new MeshPeer.Gateway("198.18.0.10", 15443)))));
  }

  /** Mesh 2's endpoint: federated with mesh 1 and mesh 3, each with its own export list. */
  URI start() throws IOException {
    Map<String, List<X509Certificate>> peers = Map.of("mesh1.example", mesh1.roots(), "mesh3.example", mesh3.roots());
    SSLContext tls = MeshTls.server(BundleTls.spiffeKeyManager(mesh2, id(mesh2, "istiod"), scheduler), peers::get);
    server = new BundleEndpointServer(new InetSocketAddress("127.0.0.1", 0), tls,
        () -> new SpiffeBundle("mesh2.example", mesh2.roots(), 1, Duration.ofMinutes(5)), true);
    server.handle(ExportClient.PATH, new ExportEndpoint(td -> switch (td) {
      case "mesh1.example" -> Optional.of(exportedTo("mesh1"));
      case "mesh3.example" -> Optional.of(exportedTo("mesh3"));
      default -> Optional.empty();
    }));
    return URI.create("https://127.0.0.1:" + server.port() + "/");
  }

  static SpiffeId id(CertificateAuthority ca, String sa) {
    return new SpiffeId(trustDomainOf(ca), "istio-system", sa);
  }

  static String trustDomainOf(CertificateAuthority ca) {
    if (ca == mesh1) return "mesh1.example";
    if (ca == mesh2) return "mesh2.example";
    if (ca == mesh3) return "mesh3.example";
    return "forger.example";
  }

  /** A client of {@code issuer}'s CA claiming {@code trustDomain}, checking the endpoint against mesh 2's roots. */
  SSLContext client(CertificateAuthority issuer, String trustDomain) {
    var km = BundleTls.spiffeKeyManager(issuer, new SpiffeId(trustDomain, "istio-system", "istiod"), scheduler);
    return MeshTls.client(km, mesh2.roots(), "spiffe://mesh2.example/ns/istio-system/sa/istiod");
  }

  @Test
  void eachPeerMeshGetsOnlyWhatIsExportedToIt() throws Exception {
    URI url = start();
    ExportClient c = new ExportClient(Duration.ofSeconds(10));
    ExportDocument.Parsed one = ExportDocument.parse(c.fetch(url, client(mesh1, "mesh1.example")), "mesh2",
        "mesh2.example");
    assertThat(one.problems()).isEmpty();
    assertThat(one.document().services()).extracting(ExportedService::name).containsExactly("only-for-mesh1");
    ExportDocument.Parsed three = ExportDocument.parse(c.fetch(url, client(mesh3, "mesh3.example")), "mesh2",
        "mesh2.example");
    assertThat(three.document().services()).extracting(ExportedService::name).containsExactly("only-for-mesh3");
    // The bundle beside it stays public: no client certificate needed.
    assertThat(new weft.security.federation.BundleClient(null).fetch(new weft.security.federation.FederatedPeer(
        "mesh2.example", url, weft.security.federation.BundleEndpointProfile.HTTPS_SPIFFE,
        "spiffe://mesh2.example/ns/istio-system/sa/istiod",
        new SpiffeBundle("mesh2.example", mesh2.roots(), 0, Duration.ZERO), "test"), new SpiffeBundle("mesh2.example",
        mesh2.roots(), 0, Duration.ZERO), Duration.ofMinutes(5)).x509Authorities()).isEqualTo(mesh2.roots());
  }

  @Test
  void aCallerWithoutCertificateOrFromAnUnfederatedDomainOrForgingAPeersIdGetsNothing() throws Exception {
    URI url = start();
    ExportClient c = new ExportClient(Duration.ofSeconds(10));
    SSLContext anonymous = MeshTls.client(null, mesh2.roots(), "spiffe://mesh2.example/ns/istio-system/sa/istiod");
    assertThatThrownBy(() -> c.fetch(url, anonymous)).hasMessageContaining("401");
    // Not a federated trust domain: refused in the handshake.
    assertThatThrownBy(() -> c.fetch(url, client(forger, "forger.example"))).isInstanceOf(IOException.class);
    // Mesh 3's CA minting mesh 1's identity: its chain is not mesh 1's roots.
    assertThatThrownBy(() -> c.fetch(url, client(mesh3, "mesh1.example"))).isInstanceOf(IOException.class);
  }

  @Test
  void theImporterRefusesAnEndpointThatIsNotThePeersControlPlane() throws Exception {
    URI url = start();
    ExportClient c = new ExportClient(Duration.ofSeconds(10));
    var km = BundleTls.spiffeKeyManager(mesh1, new SpiffeId("mesh1.example", "istio-system", "istiod"), scheduler);
    // Expecting mesh 3's control plane at mesh 2's address: the certificate names another id.
    assertThatThrownBy(() -> c.fetch(url, MeshTls.client(km, mesh2.roots(),
        "spiffe://mesh2.example/ns/istio-system/sa/other"))).hasMessageContaining("expected");
    // Checking against mesh 3's roots: mesh 2's certificate does not chain to them.
    assertThatThrownBy(() -> c.fetch(url, MeshTls.client(km, mesh3.roots(),
        "spiffe://mesh2.example/ns/istio-system/sa/istiod"))).hasMessageContaining("does not chain");
  }
}
