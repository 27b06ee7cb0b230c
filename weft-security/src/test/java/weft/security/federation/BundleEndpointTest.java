package weft.security.federation;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static weft.security.federation.FederationFixtures.*;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import weft.security.ca.CertificateAuthority;

/** The bundle endpoint served and fetched over real HTTPS on loopback, both profiles. */
class BundleEndpointTest {
  @TempDir Path tmp;

  @Test
  void httpsWebEndpointServesTheBundleAndAClientTrustingTheWebRootFetchesIt() throws Exception {
    CertificateAuthority mesh2 = ca(tmp.resolve("mesh2"), "mesh2.example");
    CertificateAuthority web = ca(tmp.resolve("web"), "web");
    SpiffeBundle served = new SpiffeBundle("mesh2.example", mesh2.roots(), 7, Duration.ofSeconds(300));
    try (BundleEndpointServer server = serve(BundleTls.httpsWeb(webTlsDir(tmp.resolve("tls"), web, "localhost")),
        () -> served)) {
      FederatedPeer peer = FederatedPeer.httpsWeb("mesh2.example", url(server), "test");
      SpiffeBundle fetched = new BundleClient(trusting(web.roots())).fetch(peer, null, Duration.ofMinutes(5));
      assertThat(fetched.x509Authorities()).isEqualTo(mesh2.roots());
      assertThat(fetched.sequence()).isEqualTo(7);
      assertThat(fetched.refreshHint()).isEqualTo(Duration.ofSeconds(300));
    }
  }

  @Test
  void httpsWebEndpointWithACertificateForAnotherHostIsRefused() throws Exception {
    CertificateAuthority mesh2 = ca(tmp.resolve("mesh2"), "mesh2.example");
    CertificateAuthority web = ca(tmp.resolve("web"), "web");
    SpiffeBundle served = new SpiffeBundle("mesh2.example", mesh2.roots(), 1, Duration.ofSeconds(300));
    try (BundleEndpointServer server = serve(
        BundleTls.httpsWeb(webTlsDir(tmp.resolve("tls"), web, "bundles.elsewhere.example")), () -> served)) {
      FederatedPeer peer = FederatedPeer.httpsWeb("mesh2.example", url(server), "test");
      assertThatThrownBy(() -> new BundleClient(trusting(web.roots())).fetch(peer, null, Duration.ofMinutes(5)))
          .isInstanceOf(BundleException.class).hasMessageContaining("localhost");
    }
  }

  @Test
  void httpsWebEndpointWhoseCertificateNoTrustedRootSignedIsRefused() throws Exception {
    CertificateAuthority mesh2 = ca(tmp.resolve("mesh2"), "mesh2.example");
    CertificateAuthority web = ca(tmp.resolve("web"), "web");
    CertificateAuthority forger = ca(tmp.resolve("forger"), "forger");
    SpiffeBundle served = new SpiffeBundle("mesh2.example", forger.roots(), 1, Duration.ofSeconds(300));
    try (BundleEndpointServer server = serve(BundleTls.httpsWeb(webTlsDir(tmp.resolve("tls"), forger, "localhost")),
        () -> served)) {
      FederatedPeer peer = FederatedPeer.httpsWeb("mesh2.example", url(server), "test");
      assertThatThrownBy(() -> new BundleClient(trusting(web.roots())).fetch(peer, null, Duration.ofMinutes(5)))
          .isInstanceOf(BundleException.class);
    }
  }

  @Test
  void httpsSpiffeEndpointIsVerifiedAgainstThePeersBundleAndItsSpiffeId() throws Exception {
    CertificateAuthority mesh2 = ca(tmp.resolve("mesh2"), "mesh2.example");
    SpiffeBundle served = new SpiffeBundle("mesh2.example", mesh2.roots(), 3, Duration.ofSeconds(60));
    SSLContext tls = BundleTls.httpsSpiffe(mesh2, endpointId("mesh2.example"), null);
    try (BundleEndpointServer server = serve(tls, () -> served)) {
      SpiffeBundle bootstrap = new SpiffeBundle("mesh2.example", mesh2.roots(), 0, Duration.ZERO);
      FederatedPeer peer = new FederatedPeer("mesh2.example", url(server), BundleEndpointProfile.HTTPS_SPIFFE,
          endpointId("mesh2.example").toString(), bootstrap, "test");
      SpiffeBundle fetched = new BundleClient(null).fetch(peer, bootstrap, Duration.ofMinutes(5));
      assertThat(fetched.sequence()).isEqualTo(3);
      assertThat(fetched.x509Authorities()).isEqualTo(mesh2.roots());
    }
  }

  @Test
  void httpsSpiffeEndpointWithAnotherMeshsCertificateOrAnotherIdIsRefused() throws Exception {
    CertificateAuthority mesh2 = ca(tmp.resolve("mesh2"), "mesh2.example");
    CertificateAuthority forger = ca(tmp.resolve("forger"), "forger.example");
    SpiffeBundle bootstrap = new SpiffeBundle("mesh2.example", mesh2.roots(), 0, Duration.ZERO);
    // Signed by a CA outside the peer's bundle, though it claims the right id.
    try (BundleEndpointServer server = serve(BundleTls.httpsSpiffe(forger, endpointId("mesh2.example"), null),
        () -> new SpiffeBundle("mesh2.example", forger.roots(), 9, Duration.ZERO))) {
      FederatedPeer peer = new FederatedPeer("mesh2.example", url(server), BundleEndpointProfile.HTTPS_SPIFFE,
          endpointId("mesh2.example").toString(), bootstrap, "test");
      assertThatThrownBy(() -> new BundleClient(null).fetch(peer, bootstrap, Duration.ofMinutes(5)))
          .isInstanceOf(BundleException.class).hasMessageContaining("does not chain");
    }
    // Signed by the peer's CA, but for another workload of it.
    try (BundleEndpointServer server = serve(BundleTls.httpsSpiffe(mesh2,
        new weft.security.SpiffeId("mesh2.example", "default", "frontend"), null),
        () -> new SpiffeBundle("mesh2.example", mesh2.roots(), 9, Duration.ZERO))) {
      FederatedPeer peer = new FederatedPeer("mesh2.example", url(server), BundleEndpointProfile.HTTPS_SPIFFE,
          endpointId("mesh2.example").toString(), bootstrap, "test");
      assertThatThrownBy(() -> new BundleClient(null).fetch(peer, bootstrap, Duration.ofMinutes(5)))
          .isInstanceOf(BundleException.class).hasMessageContaining("expected " + endpointId("mesh2.example"));
    }
  }

  @Test
  void anOversizedDocumentFromTheEndpointIsRefused() throws Exception {
    CertificateAuthority mesh2 = ca(tmp.resolve("mesh2"), "mesh2.example");
    List<java.security.cert.X509Certificate> many = new java.util.ArrayList<>();
    AtomicReference<SpiffeBundle> served = new AtomicReference<>();
    // Far more than MAX_BYTES of roots (each about 500 bytes of base64).
    for (int i = 0; i < 1000; i++) many.add(mesh2.root());
    served.set(new SpiffeBundle("mesh2.example", many, 1, Duration.ZERO));
    SSLContext tls = BundleTls.httpsSpiffe(mesh2, endpointId("mesh2.example"), null);
    try (BundleEndpointServer server = serve(tls, served::get)) {
      SpiffeBundle bootstrap = new SpiffeBundle("mesh2.example", mesh2.roots(), 0, Duration.ZERO);
      FederatedPeer peer = new FederatedPeer("mesh2.example", url(server), BundleEndpointProfile.HTTPS_SPIFFE,
          endpointId("mesh2.example").toString(), bootstrap, "test");
      assertThatThrownBy(() -> new BundleClient(null).fetch(peer, bootstrap, Duration.ofMinutes(5)))
          .isInstanceOf(BundleException.class).hasMessageContaining("more than");
    }
  }

  @Test
  void anEndpointThatTricklesItsBodyIsCutOffAtTheTimeout() throws Exception {
    CertificateAuthority mesh2 = ca(tmp.resolve("mesh2"), "mesh2.example");
    SSLContext tls = BundleTls.httpsSpiffe(mesh2, endpointId("mesh2.example"), null);
    java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
    com.sun.net.httpserver.HttpsServer server = com.sun.net.httpserver.HttpsServer.create(
        new java.net.InetSocketAddress("127.0.0.1", 0), 0);
    server.setHttpsConfigurator(new com.sun.net.httpserver.HttpsConfigurator(tls));
    server.setExecutor(java.util.concurrent.Executors.newCachedThreadPool());
    server.createContext("/", ex -> {
      ex.sendResponseHeaders(200, 0);
      ex.getResponseBody().write("{\"keys\": [".getBytes());
      ex.getResponseBody().flush();
      try {
        release.await(); // holds the body open until the test ends
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      ex.close();
    });
    server.start();
    try {
      SpiffeBundle bootstrap = new SpiffeBundle("mesh2.example", mesh2.roots(), 0, Duration.ZERO);
      FederatedPeer peer = new FederatedPeer("mesh2.example",
          java.net.URI.create("https://127.0.0.1:" + server.getAddress().getPort() + "/"),
          BundleEndpointProfile.HTTPS_SPIFFE, endpointId("mesh2.example").toString(), bootstrap, "test");
      long start = System.nanoTime();
      assertThatThrownBy(() -> new BundleClient(null, Duration.ofMillis(500)).fetch(peer, bootstrap, Duration.ZERO))
          .isInstanceOf(BundleException.class).hasMessageContaining("no complete bundle within 1000 ms");
      // The body is held open until the test ends: without the deadline the fetch would never
      // return. The bound is loose so that a loaded machine's slow handshake cannot fail it.
      assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(30));
    } finally {
      release.countDown();
      server.stop(0);
    }
  }
}
