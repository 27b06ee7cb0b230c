package weft.security.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.security.KeyPair;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import weft.security.SpiffeId;
import weft.security.ca.CaStore;
import weft.security.ca.CertificateAuthority;
import weft.security.testing.Csrs;

/** Reading the identity of a client certificate chain: only a workload certificate of our CA is one. */
class ClientCertificatesTest {
  static final SpiffeId FRONTEND = new SpiffeId("cluster.local", "default", "frontend");

  @TempDir Path tmp;
  CertificateAuthority ours;
  CertificateAuthority foreign;
  KeyPair keys;

  @BeforeEach
  void start() throws Exception {
    ours = CaStore.loadOrCreate(tmp.resolve("ours"), "cluster.local", Clock.systemUTC());
    foreign = CaStore.loadOrCreate(tmp.resolve("foreign"), "cluster.local", Clock.systemUTC());
    keys = Csrs.newKey();
  }

  @Test
  void aWorkloadCertificateOfOurCaIsItsSpiffeId() throws Exception {
    List<X509Certificate> chain = ours.issueWorkload(keys.getPublic(), FRONTEND, Duration.ofHours(1));
    assertThat(ClientCertificates.identity(chain, ours.roots(), Instant.now())).isEqualTo(FRONTEND);
    // Without the root at its end too, as most clients send it.
    assertThat(ClientCertificates.identity(chain.subList(0, chain.size() - 1), ours.roots(), Instant.now()))
        .isEqualTo(FRONTEND);
  }

  @Test
  void aCertificateOfAnotherRootIsRefused() {
    List<X509Certificate> chain = foreign.issueWorkload(keys.getPublic(), FRONTEND, Duration.ofHours(1));
    assertThatThrownBy(() -> ClientCertificates.identity(chain, ours.roots(), Instant.now()))
        .isInstanceOf(AuthenticationException.class).hasMessageContaining("does not chain to the mesh root");
  }

  @Test
  void anExpiredCertificateIsRefused() {
    List<X509Certificate> chain = ours.issueWorkload(keys.getPublic(), FRONTEND, Duration.ofHours(1));
    assertThatThrownBy(() -> ClientCertificates.identity(chain, ours.roots(), Instant.now().plus(Duration.ofDays(2))))
        .isInstanceOf(AuthenticationException.class).hasMessageContaining("does not chain to the mesh root");
  }

  @Test
  void aCaCertificateIsNotAWorkload() {
    assertThatThrownBy(() -> ClientCertificates.identity(ours.chain(), ours.roots(), Instant.now()))
        .isInstanceOf(AuthenticationException.class).hasMessageContaining("CA certificate");
  }

  @Test
  void aCertificateWithoutASpiffeIdIsNoIdentity() {
    List<X509Certificate> chain = ours.issueServing(keys.getPublic(), List.of("example.com"), null,
        Duration.ofHours(1));
    assertThatThrownBy(() -> ClientCertificates.identity(chain, ours.roots(), Instant.now()))
        .isInstanceOf(AuthenticationException.class).hasMessageContaining("names 0 URIs");
  }

  @Test
  void noCertificateIsNoIdentity() {
    assertThatThrownBy(() -> ClientCertificates.identity(List.of(), ours.roots(), Instant.now()))
        .isInstanceOf(AuthenticationException.class).hasMessageContaining("no client certificate");
  }
}
