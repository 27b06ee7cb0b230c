package weft.agent.cert;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.PrivateKey;
import java.security.cert.CertPathValidator;
import java.security.cert.CertificateFactory;
import java.security.cert.PKIXParameters;
import java.security.cert.TrustAnchor;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Date;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import weft.agent.testing.ManualScheduler;
import weft.agent.testing.MutableClock;
import weft.agent.testing.TestMesh;
import weft.security.SpiffeId;
import weft.security.ca.Pem;

/** The certificate lifecycle against a real CA over TLS, with time driven by hand. */
class CertificateManagerTest {
  private static final SpiffeId FRONTEND = new SpiffeId("cluster.local", "default", "frontend");

  @TempDir Path tmp;
  private final MutableClock clock = new MutableClock(Instant.now().truncatedTo(ChronoUnit.SECONDS));
  private final ManualScheduler scheduler = new ManualScheduler(clock);
  private final AtomicReference<String> token = new AtomicReference<>(TestMesh.FRONTEND_TOKEN);
  private TestMesh mesh;
  private CaClient client;

  @BeforeEach
  void startMesh() throws Exception {
    mesh = TestMesh.start(tmp, clock);
    client = new CaClient(mesh.address(), TestMesh.SERVER_NAME, TrustRoots.file(mesh.rootFile), token::get, "cluster1");
  }

  @AfterEach
  void stopMesh() {
    client.close();
    mesh.close();
  }

  private CertificateManager manager(Duration ttl) {
    return CertificateManager.builder(FRONTEND, client, TrustRoots.file(mesh.rootFile),
            new CertificateFiles(tmp.resolve("certs")))
        .ttl(ttl).clock(clock).scheduler(scheduler).retryPolicy(RetryPolicy.DEFAULT.withoutJitter()).build();
  }

  @Test
  void firstCertificateNamesOnlyTheWorkloadsSpiffeIdAndChainsToTheMeshRoot() throws Exception {
    CertificateManager m = manager(null);
    m.start();
    scheduler.runDue();

    IssuedCertificate issued = m.awaitFirstCertificate(Duration.ZERO.plusMillis(1));
    Path dir = tmp.resolve("certs");
    X509Certificate leaf = Pem.readCertificates(dir.resolve("cert-chain.pem")).get(0);
    assertThat(leaf).isEqualTo(issued.leaf());
    assertThat(TestMesh.uris(leaf)).containsExactly("URI:" + TestMesh.FRONTEND_SPIFFE);
    assertThat(leaf.getSubjectX500Principal().getName()).isEmpty();

    List<X509Certificate> chain = Pem.readCertificates(dir.resolve("cert-chain.pem"));
    List<X509Certificate> roots = Pem.readCertificates(dir.resolve("root-cert.pem"));
    assertThat(roots).containsExactlyElementsOf(mesh.ca.roots());
    PKIXParameters params = new PKIXParameters(Set.of(new TrustAnchor(roots.get(0), null)));
    params.setRevocationEnabled(false);
    params.setDate(Date.from(clock.instant()));
    CertPathValidator.getInstance("PKIX").validate(CertificateFactory.getInstance("X.509").generateCertPath(chain), params);

    assertThat(Files.getPosixFilePermissions(dir.resolve("key.pem"))).isEqualTo(PosixFilePermissions.fromString("rw-------"));
    PrivateKey key = Pem.readPrivateKey(dir.resolve("key.pem"));
    assertThat(key.getAlgorithm()).isEqualTo("EC");
    assertThat(IssuedCertificate.keyMatches(key, leaf)).isTrue();
    // the CA's default lifetime, Istio's 24 hours
    assertThat(Duration.between(issued.notBefore(), issued.notAfter())).isEqualTo(Duration.ofHours(24));
  }

  @Test
  void rotatesAtHalfItsLifeWithANewKeyAndANewCertificate() throws Exception {
    CertificateManager m = manager(Duration.ofHours(2));
    m.start();
    scheduler.runDue();
    IssuedCertificate first = m.current().orElseThrow();
    Path dir = tmp.resolve("certs");
    String firstKeyPem = Files.readString(dir.resolve("key.pem"));

    assertThat(Duration.between(first.notBefore(), first.notAfter())).isEqualTo(Duration.ofHours(2));
    assertThat(m.nextAttempt()).contains(first.notBefore().plus(Duration.ofHours(1)));

    scheduler.advance(Duration.ofMinutes(59));
    assertThat(m.current()).contains(first);

    scheduler.advance(Duration.ofMinutes(1));
    IssuedCertificate second = m.current().orElseThrow();
    assertThat(second.leaf().getSerialNumber()).isNotEqualTo(first.leaf().getSerialNumber());
    assertThat(second.leaf().getPublicKey()).isNotEqualTo(first.leaf().getPublicKey());
    assertThat(Files.readString(dir.resolve("key.pem"))).isNotEqualTo(firstKeyPem);
    X509Certificate onDisk = Pem.readCertificates(dir.resolve("cert-chain.pem")).get(0);
    assertThat(onDisk).isEqualTo(second.leaf());
    assertThat(IssuedCertificate.keyMatches(Pem.readPrivateKey(dir.resolve("key.pem")), onDisk)).isTrue();
    assertThat(TestMesh.uris(onDisk)).containsExactly("URI:" + TestMesh.FRONTEND_SPIFFE);
    assertThat(m.nextAttempt()).contains(second.notBefore().plus(Duration.ofHours(1)));
  }

  @Test
  void refusedRequestLeavesTheInstalledFilesAndRetriesWithGrowingDelays() throws Exception {
    CertificateManager m = manager(Duration.ofHours(2));
    m.start();
    scheduler.runDue();
    IssuedCertificate first = m.current().orElseThrow();
    Path dir = tmp.resolve("certs");
    byte[] certBefore = Files.readAllBytes(dir.resolve("cert-chain.pem"));
    byte[] keyBefore = Files.readAllBytes(dir.resolve("key.pem"));

    token.set("stolen-token");
    scheduler.advance(Duration.ofHours(1)); // rotation is due: refused
    assertThat(m.consecutiveFailures()).isEqualTo(1);
    assertThat(m.lastError().orElseThrow().getMessage()).contains("UNAUTHENTICATED").contains("unknown token");
    assertThat(scheduler.nextDelay()).isEqualTo(Duration.ofSeconds(1));

    scheduler.advance(Duration.ofSeconds(1));
    assertThat(m.consecutiveFailures()).isEqualTo(2);
    assertThat(scheduler.nextDelay()).isEqualTo(Duration.ofSeconds(2));
    scheduler.advance(Duration.ofSeconds(2));
    assertThat(scheduler.nextDelay()).isEqualTo(Duration.ofSeconds(4));
    scheduler.advance(Duration.ofSeconds(4));
    assertThat(scheduler.nextDelay()).isEqualTo(Duration.ofSeconds(8));
    assertThat(m.consecutiveFailures()).isEqualTo(4);

    assertThat(m.current()).contains(first);
    assertThat(Files.readAllBytes(dir.resolve("cert-chain.pem"))).isEqualTo(certBefore);
    assertThat(Files.readAllBytes(dir.resolve("key.pem"))).isEqualTo(keyBefore);

    token.set(TestMesh.FRONTEND_TOKEN);
    scheduler.advance(Duration.ofSeconds(8));
    assertThat(m.consecutiveFailures()).isZero();
    assertThat(m.lastError()).isEmpty();
    assertThat(m.current().orElseThrow().leaf().getSerialNumber()).isNotEqualTo(first.leaf().getSerialNumber());
    assertThat(Files.readAllBytes(dir.resolve("cert-chain.pem"))).isNotEqualTo(certBefore);
  }

  @Test
  void retryDelaysStopGrowingAtTheMaximum() {
    RetryPolicy p = new RetryPolicy(Duration.ofSeconds(1), Duration.ofSeconds(30), 2, 0);
    assertThat(List.of(1, 2, 3, 5, 6, 20).stream().map(n -> p.delayAfter(n, () -> 0.5)).toList())
        .containsExactly(Duration.ofSeconds(1), Duration.ofSeconds(2), Duration.ofSeconds(4), Duration.ofSeconds(16),
            Duration.ofSeconds(30), Duration.ofSeconds(30));
    RetryPolicy jittered = new RetryPolicy(Duration.ofSeconds(10), Duration.ofSeconds(10), 2, 0.2);
    assertThat(jittered.delayAfter(1, () -> 0.0)).isEqualTo(Duration.ofSeconds(8));
    assertThat(jittered.delayAfter(1, () -> 0.999999)).isBetween(Duration.ofMillis(11_999), Duration.ofSeconds(12));
  }

  @Test
  void caPresentingAnotherNameIsNotTrusted() throws Exception {
    try (CaClient wrongName = new CaClient(mesh.address(), "istiod.other-namespace.svc", TrustRoots.file(mesh.rootFile),
        token::get, "")) {
      CertificateManager m = CertificateManager.builder(FRONTEND, wrongName, TrustRoots.file(mesh.rootFile),
          new CertificateFiles(tmp.resolve("certs"))).clock(clock).scheduler(scheduler).build();
      m.start();
      scheduler.runDue();
      assertThat(m.current()).isEmpty();
      assertThat(m.lastError().orElseThrow().getMessage()).contains("UNAVAILABLE");
      assertThat(Files.exists(tmp.resolve("certs/cert-chain.pem"))).isFalse();
      assertThatThrownBy(() -> m.awaitFirstCertificate(Duration.ofMillis(10)))
          .isInstanceOf(TimeoutException.class).hasMessageContaining("last failure").hasMessageContaining("UNAVAILABLE");
    }
  }

  @Test
  void caSignedByAnotherRootIsNotTrusted(@TempDir Path other) throws Exception {
    try (TestMesh stranger = TestMesh.start(other, clock)) {
      CertificateManager m = CertificateManager.builder(FRONTEND, client, TrustRoots.file(stranger.rootFile),
          new CertificateFiles(tmp.resolve("certs"))).clock(clock).scheduler(scheduler).build();
      try (CaClient toStranger = new CaClient(stranger.address(), TestMesh.SERVER_NAME, TrustRoots.file(mesh.rootFile),
          token::get, "")) {
        // The client trusts our root but dials a CA of another mesh: the handshake fails.
        CertificateManager m2 = CertificateManager.builder(FRONTEND, toStranger, TrustRoots.file(mesh.rootFile),
            new CertificateFiles(tmp.resolve("certs2"))).clock(clock).scheduler(scheduler).build();
        m2.start();
        scheduler.runDue();
        assertThat(m2.current()).isEmpty();
        assertThat(m2.lastError().orElseThrow().getMessage()).contains("UNAVAILABLE");
      }
      // Our CA signs, but the chain does not reach the root the manager was told to install.
      m.start();
      scheduler.runDue();
      assertThat(m.current()).isEmpty();
      assertThat(m.lastError().orElseThrow().getMessage()).contains("does not chain to the mesh root");
      assertThat(Files.exists(tmp.resolve("certs/cert-chain.pem"))).isFalse();
    }
  }

  @Test
  void toleratesACaClockAFewMinutesAheadButNotAnHour() throws Exception {
    CertificateManager behind = CertificateManager.builder(FRONTEND, client, TrustRoots.file(mesh.rootFile),
            new CertificateFiles(tmp.resolve("certs")))
        .clock(java.time.Clock.offset(clock, Duration.ofMinutes(-2))).scheduler(scheduler).build();
    behind.start();
    scheduler.runDue();
    assertThat(behind.current()).isPresent();
    behind.close();

    CertificateManager farBehind = CertificateManager.builder(FRONTEND, client, TrustRoots.file(mesh.rootFile),
            new CertificateFiles(tmp.resolve("certs2")))
        .clock(java.time.Clock.offset(clock, Duration.ofHours(-1))).scheduler(scheduler).build();
    farBehind.start();
    scheduler.runDue();
    assertThat(farBehind.current()).isEmpty();
    assertThat(farBehind.lastError().orElseThrow().getMessage()).contains("check the clocks");
  }

  @Test
  void closedManagerStopsRotating() {
    CertificateManager m = manager(Duration.ofHours(2));
    m.start();
    scheduler.runDue();
    assertThat(scheduler.pending()).isEqualTo(1);
    m.close();
    assertThat(scheduler.pending()).isZero();
    assertThat(m.nextAttempt()).isEmpty();
    m.rotateNow();
    assertThat(scheduler.pending()).isZero();
  }
}
