package weft.security.csr;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import weft.security.api.IstioCertificateRequest;
import weft.security.auth.FileTokenAuthenticator;
import weft.security.auth.FileTokenAuthenticator.Entry;
import weft.security.ca.CaStore;
import weft.security.ca.CertificateAuthority;
import weft.security.testing.CaHarness;
import weft.security.testing.Chains;
import weft.security.testing.Csrs;
import weft.security.testing.MutableClock;

class CertificateServiceTest {
  private static final String FRONTEND = "spiffe://cluster.local/ns/default/sa/frontend";

  @TempDir Path caDir;
  private final Instant now = Instant.now().truncatedTo(ChronoUnit.SECONDS);
  private final MutableClock tokenClock = new MutableClock(now);
  private CertificateAuthority ca;
  private CaHarness harness;

  @BeforeEach
  void start() throws Exception {
    ca = CaStore.loadOrCreate(caDir, "cluster.local", Clock.fixed(now, java.time.ZoneOffset.UTC));
    FileTokenAuthenticator tokens = new FileTokenAuthenticator(List.of(
        new Entry("frontend-token", "default", "frontend", null),
        new Entry("short-lived", "default", "frontend", now.plus(Duration.ofMinutes(10)))), tokenClock);
    harness = new CaHarness(ca, "cluster.local", tokens);
  }

  @AfterEach
  void stop() throws Exception {
    harness.close();
  }

  @Test
  void workloadWithValidTokenGetsChainWithExactlyItsSpiffeIdThatVerifiesToTheRoot() throws Exception {
    KeyPair key = Csrs.newKey();
    var response = harness.call("frontend-token", Csrs.csr(key, FRONTEND));

    List<X509Certificate> chain = CaHarness.chainOf(response);
    assertThat(chain).hasSize(2);
    X509Certificate leaf = chain.get(0);
    assertThat(chain.get(1)).isEqualTo(ca.root());
    assertThat(leaf.getPublicKey()).isEqualTo(key.getPublic());
    assertThat(leaf.getSubjectAlternativeNames()).containsExactly(List.of(6, FRONTEND));
    assertThat(leaf.getCriticalExtensionOIDs()).contains("2.5.29.17"); // SAN is critical: the subject is empty
    assertThat(leaf.getSubjectX500Principal().getName()).isEmpty();
    assertThat(leaf.getBasicConstraints()).isEqualTo(-1);
    boolean[] usage = leaf.getKeyUsage();
    assertThat(usage[0]).as("digitalSignature").isTrue();
    assertThat(usage[2]).as("keyEncipherment").isTrue();
    assertThat(usage[5]).as("keyCertSign").isFalse();
    assertThat(leaf.getExtendedKeyUsage()).containsExactlyInAnyOrder("1.3.6.1.5.5.7.3.1", "1.3.6.1.5.5.7.3.2");
    assertThat(Duration.between(leaf.getNotBefore().toInstant(), leaf.getNotAfter().toInstant()))
        .isEqualTo(Duration.ofHours(24));
    Chains.verify(chain, ca.root(), now.plusSeconds(60));
    assertThat(harness.issued()).isEqualTo(1);
  }

  @Test
  void csrWithoutAnyNameGetsTheCallersIdentityFromTheToken() throws Exception {
    var response = harness.call("frontend-token", Csrs.csr(Csrs.newKey()));

    X509Certificate leaf = CaHarness.chainOf(response).get(0);
    assertThat(leaf.getSubjectAlternativeNames()).containsExactly(List.of(6, FRONTEND));
  }

  @Test
  void csrForAnotherServiceAccountIsPermissionDeniedAndCounted() {
    String other = Csrs.csr(Csrs.newKey(), "spiffe://cluster.local/ns/default/sa/other");

    assertThatThrownBy(() -> harness.call("frontend-token", other))
        .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
          assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.PERMISSION_DENIED);
          assertThat(e.getStatus().getDescription()).contains("spiffe://cluster.local/ns/default/sa/other")
              .contains(FRONTEND);
        });
    assertThat(harness.refusals("other_identity")).isEqualTo(1);
    assertThat(harness.issued()).isZero();
  }

  @Test
  void csrAddingAnyOtherNameToItsOwnIsPermissionDenied() {
    String withDns = Csrs.csrWithDns(Csrs.newKey(), FRONTEND, "payments.bank.example");
    String twoUris = Csrs.csr(Csrs.newKey(), FRONTEND, "spiffe://other.domain/ns/default/sa/frontend");

    for (String csr : List.of(withDns, twoUris)) {
      assertThatThrownBy(() -> harness.call("frontend-token", csr))
          .isInstanceOfSatisfying(StatusRuntimeException.class,
              e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.PERMISSION_DENIED));
    }
    assertThat(harness.refusals("other_identity")).isEqualTo(2);
  }

  @Test
  void impersonatingAnotherIdentityThroughMetadataIsPermissionDenied() {
    IstioCertificateRequest request = IstioCertificateRequest.newBuilder()
        .setCsr(Csrs.csr(Csrs.newKey(), FRONTEND))
        .setMetadata(Struct.newBuilder().putFields("ImpersonatedIdentity",
            Value.newBuilder().setStringValue("spiffe://cluster.local/ns/kube-system/sa/admin").build()))
        .build();

    assertThatThrownBy(() -> harness.call("frontend-token", null, request))
        .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
          assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.PERMISSION_DENIED);
          assertThat(e.getStatus().getDescription()).contains("impersonate");
        });
  }

  @Test
  void garbageCsrIsInvalidArgumentNamingTheProblem() {
    assertThatThrownBy(() -> harness.call("frontend-token", "hello, I am not a CSR"))
        .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
          assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
          assertThat(e.getStatus().getDescription()).contains("csr is not a PEM certificate request");
        });
    String broken = "-----BEGIN CERTIFICATE REQUEST-----\nMIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA\n"
        + "-----END CERTIFICATE REQUEST-----\n";
    assertThatThrownBy(() -> harness.call("frontend-token", broken))
        .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
          assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
          assertThat(e.getStatus().getDescription()).contains("csr");
        });
    assertThatThrownBy(() -> harness.call("frontend-token", ""))
        .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
          assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
          assertThat(e.getStatus().getDescription()).contains("csr is empty");
        });
    assertThat(harness.refusals("invalid_csr")).isEqualTo(3);
    assertThat(harness.issued()).isZero();
  }

  @Test
  void csrWhoseSignatureDoesNotVerifyIsInvalidArgument() {
    // The CSR names one key but is signed by another: whoever sent it does not hold the key.
    KeyPair mine = Csrs.newKey();
    KeyPair stolen = Csrs.newKey();
    String csr = Csrs.csr(mine, FRONTEND);
    String other = Csrs.csr(stolen, FRONTEND);
    String forged = spliceSignature(csr, other);

    assertThatThrownBy(() -> harness.call("frontend-token", forged))
        .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
          assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
          assertThat(e.getStatus().getDescription()).contains("signature");
        });
  }

  @Test
  void unknownTokenIsUnauthenticated() {
    assertThatThrownBy(() -> harness.call("who-am-i", Csrs.csr(Csrs.newKey(), FRONTEND)))
        .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
          assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAUTHENTICATED);
          assertThat(e.getStatus().getDescription()).contains("unknown token").doesNotContain("who-am-i");
        });
    assertThatThrownBy(() -> harness.call(null, Csrs.csr(Csrs.newKey(), FRONTEND)))
        .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
          assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAUTHENTICATED);
          assertThat(e.getStatus().getDescription()).contains("authorization");
        });
    assertThat(harness.refusals("unauthenticated")).isEqualTo(2);
  }

  @Test
  void expiredTokenIsUnauthenticated() throws Exception {
    String csr = Csrs.csr(Csrs.newKey(), FRONTEND);
    assertThat(CaHarness.chainOf(harness.call("short-lived", csr))).isNotEmpty();

    tokenClock.advance(Duration.ofMinutes(11));

    assertThatThrownBy(() -> harness.call("short-lived", csr))
        .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
          assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAUTHENTICATED);
          assertThat(e.getStatus().getDescription()).contains("expired");
        });
  }

  @Test
  void requestedValidityIsUsedUpToTheMaximum() throws Exception {
    String csr = Csrs.csr(Csrs.newKey(), FRONTEND);
    var oneHour = IstioCertificateRequest.newBuilder().setCsr(csr).setValidityDuration(3600).build();
    var oneYear = IstioCertificateRequest.newBuilder().setCsr(csr).setValidityDuration(365L * 24 * 3600).build();

    X509Certificate shortLeaf = CaHarness.chainOf(harness.call("frontend-token", null, oneHour)).get(0);
    X509Certificate cappedLeaf = CaHarness.chainOf(harness.call("frontend-token", null, oneYear)).get(0);

    assertThat(Duration.between(shortLeaf.getNotBefore().toInstant(), shortLeaf.getNotAfter().toInstant()))
        .isEqualTo(Duration.ofHours(1));
    assertThat(Duration.between(cappedLeaf.getNotBefore().toInstant(), cappedLeaf.getNotAfter().toInstant()))
        .isEqualTo(CertificateAuthority.DEFAULT_MAX_TTL);
  }

  @Test
  void secureServerPresentsTheControlPlaneIdentityAndRenewsIt() throws Exception {
    X509Certificate first = harness.server.servingCertificate();
    assertThat(first.getSubjectAlternativeNames()).containsExactlyInAnyOrder(
        List.of(2, CaHarness.AUTHORITY), List.of(6, "spiffe://cluster.local/ns/istio-system/sa/istiod"));

    harness.server.renewServingCertificate();

    X509Certificate second = harness.server.servingCertificate();
    assertThat(second.getSerialNumber()).isNotEqualTo(first.getSerialNumber());
    assertThat(second.getPublicKey()).isNotEqualTo(first.getPublicKey());
    // New handshakes still verify (the client checks the DNS name against the new certificate).
    assertThat(CaHarness.chainOf(harness.call("frontend-token", Csrs.csr(Csrs.newKey(), FRONTEND)))).hasSize(2);
  }

  /** The first CSR's body with the second one's signature. */
  private static String spliceSignature(String csrPem, String otherPem) {
    try {
      var a = new org.bouncycastle.pkcs.PKCS10CertificationRequest(der(csrPem));
      var b = new org.bouncycastle.pkcs.PKCS10CertificationRequest(der(otherPem));
      var forged = new org.bouncycastle.asn1.pkcs.CertificationRequest(a.toASN1Structure().getCertificationRequestInfo(),
          b.toASN1Structure().getSignatureAlgorithm(), b.toASN1Structure().getSignature());
      return "-----BEGIN CERTIFICATE REQUEST-----\n"
          + java.util.Base64.getMimeEncoder(64, "\n".getBytes()).encodeToString(forged.getEncoded())
          + "\n-----END CERTIFICATE REQUEST-----\n";
    } catch (java.io.IOException e) {
      throw new IllegalStateException(e);
    }
  }

  private static byte[] der(String pem) {
    String body = pem.replaceAll("-----[A-Z ]+-----", "").replaceAll("\\s", "");
    return java.util.Base64.getDecoder().decode(body);
  }
}
