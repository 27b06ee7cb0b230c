package weft.security.federation;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import weft.security.ca.CertificateAuthority;
import weft.security.ca.Pem;

/** TrustDomainFederation resources: both profiles read, each mistake named by its field. */
class TrustDomainFederationParserTest {
  private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
  @TempDir Path tmp;

  private static TrustDomainFederationParser.Result parse(String yaml) throws Exception {
    JsonNode doc = YAML.readTree(yaml);
    return TrustDomainFederationParser.parse(doc, "federation.yaml");
  }

  @Test
  void anHttpsSpiffePeerWithAPemOrJsonBootstrapBundleIsRead() throws Exception {
    CertificateAuthority ca = FederationFixtures.ca(tmp, "mesh2.example");
    String json = new SpiffeBundle("mesh2.example", ca.roots(), 4, Duration.ofSeconds(60)).toJson();
    for (String bundle : new String[] {Pem.encode(ca.roots()), json}) {
      TrustDomainFederationParser.Result r = parse("""
          apiVersion: weft.dev/v1alpha1
          kind: TrustDomainFederation
          metadata: {name: mesh2}
          spec:
            trustDomain: mesh2.example
            bundleEndpointURL: https://bundles.mesh2.example:8443/
            bundleEndpointProfile:
              type: https_spiffe
              endpointSPIFFEID: spiffe://mesh2.example/ns/istio-system/sa/istiod
            trustDomainBundle: |
          %s
          """.formatted(bundle.indent(4).stripTrailing()));
      assertThat(r.problems()).isEmpty();
      assertThat(r.peer().profile()).isEqualTo(BundleEndpointProfile.HTTPS_SPIFFE);
      assertThat(r.peer().bootstrap().x509Authorities()).isEqualTo(ca.roots());
      assertThat(r.peer().source()).isEqualTo("federation.yaml: TrustDomainFederation mesh2");
    }
  }

  @Test
  void eachMistakeIsNamedByItsField() throws Exception {
    TrustDomainFederationParser.Result r = parse("""
        apiVersion: weft.dev/v1alpha1
        kind: TrustDomainFederation
        metadata: {name: bad}
        spec:
          trustDomain: Mesh2
          bundleEndpointURL: http://mesh2.example/
          bundleEndpointProfile: {type: https_spiffe, endpointSPIFFEID: spiffe://other/ns/a/sa/b}
          trustDomainBundle: '{"keys": 3}'
          extra: 1
        """);
    assertThat(r.peer()).isNull();
    assertThat(String.join("\n", r.problems())).contains("spec.extra", "spec.trustDomain 'Mesh2'",
        "spec.bundleEndpointURL", "endpointSPIFFEID", "spec.trustDomainBundle: bundle document has no \"keys\" array");
    TrustDomainFederationParser.Result web = parse("""
        apiVersion: weft.dev/v1alpha1
        kind: TrustDomainFederation
        metadata: {name: web}
        spec:
          trustDomain: mesh3.example
          bundleEndpointURL: https://mesh3.example/
          bundleEndpointProfile: {type: https_sftp}
        """);
    assertThat(web.problems()).singleElement().asString().contains("bundleEndpointProfile.type");
    TrustDomainFederationParser.Result noBootstrap = parse("""
        apiVersion: weft.dev/v1alpha1
        kind: TrustDomainFederation
        metadata: {name: nb}
        spec:
          trustDomain: mesh3.example
          bundleEndpointURL: https://mesh3.example/
          bundleEndpointProfile: {type: https_spiffe, endpointSPIFFEID: spiffe://mesh3.example/cp}
        """);
    assertThat(noBootstrap.problems()).singleElement().asString().contains("spec.trustDomainBundle is required");
  }
}
