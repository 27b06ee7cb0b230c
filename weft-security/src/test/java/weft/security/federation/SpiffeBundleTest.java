package weft.security.federation;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import weft.security.ca.CertificateAuthority;

/** Bundle documents: what we write reads back, and hostile documents are refused with a reason. */
class SpiffeBundleTest {
  @TempDir Path tmp;

  private static SpiffeBundle parse(String json) throws BundleException {
    return SpiffeBundle.parse("mesh2.example", json.getBytes(StandardCharsets.UTF_8), Duration.ofMinutes(5));
  }

  @Test
  void aServedBundleReadsBackWithItsRootsSequenceAndRefreshHint() throws Exception {
    CertificateAuthority ca = FederationFixtures.ca(tmp, "mesh2.example");
    SpiffeBundle out = new SpiffeBundle("mesh2.example", ca.roots(), 42, Duration.ofSeconds(120));
    String json = out.toJson();
    assertThat(json).contains("\"use\" : \"x509-svid\"", "\"x5c\"", "\"spiffe_sequence\" : 42",
        "\"spiffe_refresh_hint\" : 120", "\"kty\" : \"EC\"", "\"crv\" : \"P-256\"");
    SpiffeBundle back = parse(json);
    assertThat(back.x509Authorities()).isEqualTo(ca.roots());
    assertThat(back.sequence()).isEqualTo(42);
    assertThat(back.refreshHint()).isEqualTo(Duration.ofSeconds(120));
  }

  @Test
  void jwtAuthoritiesAreSkippedAndARefreshHintDefaults() throws Exception {
    CertificateAuthority ca = FederationFixtures.ca(tmp, "mesh2.example");
    String x5c = Base64.getEncoder().encodeToString(ca.root().getEncoded());
    SpiffeBundle b = parse("{\"keys\":[{\"use\":\"jwt-svid\",\"kty\":\"EC\",\"kid\":\"k\"},"
        + "{\"use\":\"x509-svid\",\"kty\":\"EC\",\"x5c\":[\"" + x5c + "\"]}]}");
    assertThat(b.x509Authorities()).hasSize(1);
    assertThat(b.refreshHint()).isEqualTo(Duration.ofMinutes(5));
  }

  @Test
  void hostileDocumentsAreRefusedEachWithItsReason() throws Exception {
    CertificateAuthority ca = FederationFixtures.ca(tmp, "mesh2.example");
    String x5c = Base64.getEncoder().encodeToString(ca.root().getEncoded());
    String huge = "{\"keys\":[], \"pad\":\"" + "a".repeat(SpiffeBundle.MAX_BYTES) + "\"}";
    List<String[]> cases = List.of(
        new String[] {huge, "bytes, more than"},
        new String[] {"{\"keys\":[", "not JSON"},
        new String[] {"[1,2]", "not a JSON object"},
        new String[] {"{\"keys\":{}}", "no \"keys\" array"},
        new String[] {"{\"keys\":[]}", "no x509-svid authority"},
        new String[] {"{\"keys\":[{\"use\":\"sig\",\"kty\":\"EC\",\"x5c\":[\"" + x5c + "\"]}]}", "keys[0].use"},
        new String[] {"{\"keys\":[{\"use\":\"x509-svid\",\"kty\":\"oct\",\"x5c\":[\"" + x5c + "\"]}]}", "keys[0].kty"},
        new String[] {"{\"keys\":[{\"use\":\"x509-svid\",\"kty\":\"RSA\",\"x5c\":[\"" + x5c + "\"]}]}",
            "its certificate holds a EC key"},
        new String[] {"{\"keys\":[{\"use\":\"x509-svid\",\"kty\":\"EC\",\"x5c\":[\"" + x5c + "\",\"" + x5c + "\"]}]}",
            "exactly one"},
        new String[] {"{\"keys\":[{\"use\":\"x509-svid\",\"kty\":\"EC\",\"x5c\":[\"bm90IGEgY2VydA==\"]}]}",
            "not a DER certificate"},
        new String[] {"{\"keys\":[{\"use\":\"x509-svid\",\"kty\":\"EC\",\"x5c\":[\"" + x5c
            + "\"]}],\"spiffe_sequence\":-1}", "spiffe_sequence"},
        new String[] {"{\"keys\":[{\"use\":\"x509-svid\",\"kty\":\"EC\",\"x5c\":[\"" + x5c
            + "\"]}],\"spiffe_refresh_hint\":\"soon\"}", "spiffe_refresh_hint"},
        new String[] {"{\"keys\":[" + "[".repeat(100) + "]}", "not JSON"});
    for (String[] c : cases) {
      assertThatThrownBy(() -> parse(c[0])).as(c[1]).isInstanceOf(BundleException.class).hasMessageContaining(c[1]);
    }
  }

  @Test
  void aLeafCertificateIsNotAnAuthority() throws Exception {
    CertificateAuthority ca = FederationFixtures.ca(tmp, "mesh2.example");
    var leaf = ca.issueWorkload(BundleTls.newKeyPair().getPublic(), FederationFixtures.endpointId("mesh2.example"),
        Duration.ofHours(1)).get(0);
    String x5c = Base64.getEncoder().encodeToString(leaf.getEncoded());
    assertThatThrownBy(() -> parse("{\"keys\":[{\"use\":\"x509-svid\",\"kty\":\"EC\",\"x5c\":[\"" + x5c + "\"]}]}"))
        .hasMessageContaining("not a CA certificate");
  }

  @Test
  void theSequenceGoesUpOnlyWhenTheRootsChangeAndSurvivesARestart() throws Exception {
    CertificateAuthority a = FederationFixtures.ca(tmp.resolve("a"), "cluster.local");
    CertificateAuthority b = FederationFixtures.ca(tmp.resolve("b"), "cluster.local");
    Path state = tmp.resolve("state");
    BundleSequence seq = new BundleSequence(state);
    assertThat(seq.sequenceFor(a.roots())).isEqualTo(1);
    assertThat(seq.sequenceFor(a.roots())).isEqualTo(1);
    List<java.security.cert.X509Certificate> overlap = List.of(a.root(), b.root());
    assertThat(seq.sequenceFor(overlap)).isEqualTo(2);
    BundleSequence restarted = new BundleSequence(state);
    assertThat(restarted.sequenceFor(List.of(b.root(), a.root()))).as("same set, other order").isEqualTo(2);
    assertThat(restarted.sequenceFor(b.roots())).isEqualTo(3);
  }
}
