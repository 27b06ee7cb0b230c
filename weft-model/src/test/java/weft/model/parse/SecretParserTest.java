package weft.model.parse;

import static org.assertj.core.api.Assertions.assertThat;
import static weft.model.parse.Yamls.errors;
import static weft.model.parse.Yamls.ids;
import static weft.model.parse.Yamls.parse;

import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;
import weft.model.ConfigProblem;
import weft.model.ResourceId;
import weft.model.TlsSecret;

/**
 * Kubernetes Secrets are read for their TLS material as Istio reads them, every value checked; a bad
 * one is rejected alone with the field named and never a byte of its value in the message.
 */
class SecretParserTest {
  static final TestPem SERVER = TestPem.selfSigned("server.example.com");
  static final TestPem OTHER = TestPem.selfSigned("other.example.com");
  static final TestPem CA = TestPem.selfSigned("Example Root CA");

  static String tlsSecret(String name, String cert, String key, String ca) {
    return """
        apiVersion: v1
        kind: Secret
        metadata: {name: %s, namespace: egress}
        type: kubernetes.io/tls
        data:
          tls.crt: %s
          tls.key: %s
        %s""".formatted(name, TestPem.b64(cert), TestPem.b64(key),
        ca == null ? "" : "  ca.crt: " + TestPem.b64(ca) + "\n");
  }

  static final String SIBLING = """
      ---
      apiVersion: v1
      kind: Secret
      metadata: {name: sibling, namespace: egress}
      type: Opaque
      data: {password: c2VjcmV0}
      """;

  @Test
  void aKubernetesTlsSecretKeepsItsChainKeyAndCaAndNeverPrintsTheKey() {
    ParsedFile f = parse(tlsSecret("client-credential", SERVER.certificate(), SERVER.key(), CA.certificate()));
    assertThat(errors(f)).isEmpty();
    TlsSecret s = Yamls.only(f, TlsSecret.class);
    assertThat(s.id()).isEqualTo(new ResourceId("Secret", "egress", "client-credential"));
    assertThat(s.certificateChain()).isEqualTo(SERVER.certificate());
    assertThat(new String(s.privateKey().pem())).isEqualTo(SERVER.key());
    assertThat(s.caCertificates()).isEqualTo(CA.certificate());
    assertThat(s.subject()).isEqualTo("CN=server.example.com");
    assertThat(s.notAfter()).isAfter(Instant.now());
    String keyBody = SERVER.key().lines().filter(l -> !l.startsWith("-----")).findFirst().orElseThrow();
    assertThat(s.toString()).doesNotContain(keyBody).contains("[redacted private key]");
  }

  @Test
  void istiosGenericFormFromStringDataIsReadAndCacertIsTheCa() {
    ParsedFile f = parse("""
        apiVersion: v1
        kind: Secret
        metadata: {name: generic, namespace: egress}
        stringData:
          cert: |
        %s  key: |
        %s  cacert: |
        %s""".formatted(SERVER.certificate().indent(4), SERVER.key().indent(4), CA.certificate().indent(4)));
    assertThat(errors(f)).isEmpty();
    TlsSecret s = Yamls.only(f, TlsSecret.class);
    assertThat(s.hasCertificate()).isTrue();
    assertThat(s.caCertificates()).contains("BEGIN CERTIFICATE");
  }

  @Test
  void aCaCompanionSecretHoldsOnlyTheCa() {
    ParsedFile f = parse("""
        apiVersion: v1
        kind: Secret
        metadata: {name: client-credential-cacert, namespace: egress}
        data:
          ca.crt: %s
        """.formatted(TestPem.b64(CA.certificate())));
    TlsSecret s = Yamls.only(f, TlsSecret.class);
    assertThat(s.hasCertificate()).isFalse();
    assertThat(s.privateKey()).isNull();
    assertThat(s.caCertificates()).isEqualTo(CA.certificate());
  }

  @Test
  void aSecretWithoutTlsDataIsKeptEmptyAndItsOtherDataIsNotRead() {
    ParsedFile f = parse(SIBLING.substring(4));
    assertThat(errors(f)).isEmpty();
    TlsSecret s = Yamls.only(f, TlsSecret.class);
    assertThat(s.hasCertificate()).isFalse();
    assertThat(s.hasCaCertificates()).isFalse();
  }

  @Test
  void serviceAccountTokenAndHelmSecretsAreNotReadAsIstioLeavesThemOut() {
    ParsedFile f = parse("""
        apiVersion: v1
        kind: Secret
        metadata: {name: default-token-abc, namespace: egress}
        type: kubernetes.io/service-account-token
        data: {ca.crt: %s, token: not-even-base64!}
        """.formatted(TestPem.b64(CA.certificate())));
    assertThat(errors(f)).isEmpty();
    assertThat(Yamls.only(f, TlsSecret.class).hasCaCertificates()).isFalse();
  }

  @Test
  void aBadPemIsRejectedAloneNamingTheFieldAndNotItsContent() {
    String garbage = "-----BEGIN CERTIFICATE-----\nTk9UIEEgQ0VSVElGSUNBVEUgQVQgQUxM\n-----END CERTIFICATE-----\n";
    ParsedFile f = parse(tlsSecret("broken", garbage, SERVER.key(), null) + SIBLING);
    assertThat(ids(f)).containsExactly(new ResourceId("Secret", "egress", "sibling"));
    ConfigProblem p = errors(f).get(0);
    assertThat(errors(f)).hasSize(1);
    assertThat(p.resource()).isEqualTo(new ResourceId("Secret", "egress", "broken"));
    assertThat(p.field()).isEqualTo("data.tls.crt");
    assertThat(p.describe()).doesNotContain("Tk9UIEEgQ0VSVElGSUNBVEUgQVQgQUxM").contains("PEM");
    assertThat(f.rejected()).extracting(RejectedDocument::name).contains("broken");
  }

  @Test
  void aKeyThatIsNotTheCertificatesIsRejectedAloneWithoutShowingEitherKey() {
    ParsedFile f = parse(tlsSecret("mismatched", SERVER.certificate(), OTHER.key(), null) + SIBLING);
    assertThat(ids(f)).containsExactly(new ResourceId("Secret", "egress", "sibling"));
    ConfigProblem p = errors(f).get(0);
    assertThat(p.field()).isEqualTo("data.tls.key");
    assertThat(p.message()).contains("not the private key of the first certificate").contains("CN=server.example.com");
    for (String line : OTHER.key().lines().toList()) {
      if (!line.startsWith("-----")) assertThat(p.describe()).doesNotContain(line);
    }
  }

  @Test
  void valuesThatAreNotBase64OrACertificateWithoutItsKeyAreRejected() {
    ParsedFile notBase64 = parse("""
        apiVersion: v1
        kind: Secret
        metadata: {name: plain, namespace: egress}
        data: {tls.crt: "-----BEGIN CERTIFICATE-----", tls.key: "x"}
        """);
    assertThat(errors(notBase64)).extracting(ConfigProblem::field).contains("data.tls.crt", "data.tls.key");
    assertThat(errors(notBase64).get(0).message()).contains("not valid base64").doesNotContain("BEGIN");

    ParsedFile half = parse("""
        apiVersion: v1
        kind: Secret
        metadata: {name: half, namespace: egress}
        data: {cert: %s}
        """.formatted(TestPem.b64(SERVER.certificate())));
    assertThat(errors(half)).extracting(ConfigProblem::field).containsExactly("data.key");
  }

  @Test
  void aKeyOfAnotherKindOfPemBlockOrTwoKeysIsRejected() {
    ParsedFile twoKeys = parse(tlsSecret("two-keys", SERVER.certificate(), SERVER.key() + OTHER.key(), null));
    assertThat(errors(twoKeys)).extracting(ConfigProblem::message)
        .anyMatch(m -> m.contains("exactly one PEM private key, found 2"));
    ParsedFile certAsKey = parse(tlsSecret("cert-as-key", SERVER.certificate(), SERVER.certificate(), null));
    assertThat(errors(certAsKey)).extracting(ConfigProblem::message).anyMatch(m -> m.contains("not a private key"));
  }

  @Test
  void aSecretLargerThanKubernetesAllowsIsRejectedBeforeItsPemIsParsed() {
    String huge = "AAAA".repeat(SecretParser.MAX_SECRET_BYTES / 3 + 4); // decodes to just over 1 MiB
    ParsedFile f = parse("""
        apiVersion: v1
        kind: Secret
        metadata: {name: huge, namespace: egress}
        data: {ca.crt: %s}
        """.formatted(huge));
    assertThat(errors(f)).singleElement().satisfies(p -> assertThat(p.message()).contains("at most 1048576 bytes"));
  }

  @Test
  void anExpiredCertificateIsAcceptedWithAWarningAsIstioServesIt() {
    TestPem expired = TestPem.selfSigned("old.example.com", Instant.now().minus(Duration.ofDays(1)));
    ParsedFile f = parse(tlsSecret("old", expired.certificate(), expired.key(), null));
    assertThat(errors(f)).isEmpty();
    assertThat(Yamls.warnings(f)).singleElement().satisfies(w -> assertThat(w.message()).contains("expired"));
  }
}
