package weft.xds.envoygen;

import static org.assertj.core.api.Assertions.assertThat;
import static weft.xds.envoygen.EnvoyMesh.unpack;

import io.envoyproxy.envoy.config.listener.v3.FilterChain;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.CertificateValidationContext;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.CommonTlsContext;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.SPIFFECertValidatorConfig;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.SubjectAltNameMatcher;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import weft.security.ca.CaStore;
import weft.security.ca.Pem;
import weft.security.trust.MeshCaCertificate;
import weft.security.trust.TrustBundles;
import weft.xds.proxy.Proxy;
import weft.xds.view.ProxyView;
import weft.xds.view.PushContext;
import weft.dns.alloc.AddressBook;

/**
 * With the roots of each trust domain known, Envoy's mTLS contexts (sidecar inbound and outbound,
 * router outbound) carry Envoy's SPIFFE validator with one bundle per trust domain and no shared
 * pool: a peer mesh's root vouches only for identities of the peer's domain.
 */
class TrustDomainValidationTest {
  @TempDir static Path dir;
  static X509Certificate ours;
  static X509Certificate peer;
  static TrustBundles bundles;

  EnvoyMesh mesh;

  @BeforeAll
  static void roots() {
    ours = CaStore.loadOrCreate(dir.resolve("ours"), "cluster.local", Clock.systemUTC()).root();
    peer = CaStore.loadOrCreate(dir.resolve("peer"), "mesh2.example", Clock.systemUTC()).root();
    // MeshConfig: trustDomain cluster.local, alias old.local, caCertificates [{pem: peer, trustDomains: [mesh2.example]}].
    bundles = TrustBundles.of("cluster.local", List.of("old.local"), List.of(ours),
        List.of(new MeshCaCertificate(Pem.encode(peer), List.of("mesh2.example"))));
  }

  @AfterEach
  void stop() {
    if (mesh != null) mesh.close();
  }

  ProxyView view(String yaml, boolean router) {
    mesh = new EnvoyMesh(EnvoySecurityTest.MESH + yaml);
    ProxyView plain = router ? mesh.router("default", "10.1.9.9", Map.of("istio", "ingressgateway"))
        : mesh.sidecar("default", "10.1.2.1", Map.of("app", "productpage"));
    Proxy proxy = plain.proxy();
    return new ProxyView(PushContext.uncached(mesh.registry.current(), new AddressBook(), s -> bundles), proxy);
  }

  static Map<String, String> bundlesOf(CertificateValidationContext v) {
    assertThat(v.getCustomValidatorConfig().getName()).isEqualTo("envoy.tls.cert_validator.spiffe");
    assertThat(v.hasTrustedCa()).as("no shared pool beside the validator").isFalse();
    SPIFFECertValidatorConfig spiffe = unpack(v.getCustomValidatorConfig().getTypedConfig(),
        SPIFFECertValidatorConfig.class);
    Map<String, String> out = new LinkedHashMap<>();
    spiffe.getTrustDomainsList().forEach(td -> out.put(td.getName(), td.getTrustBundle().getInlineString()));
    return out;
  }

  static void assertPerDomainWithoutMixing(CommonTlsContext common) {
    assertThat(common.hasCombinedValidationContext()).as("no ROOTCA pool from SDS").isFalse();
    Map<String, String> byDomain = bundlesOf(common.getValidationContext());
    assertThat(byDomain).containsOnlyKeys("cluster.local", "old.local", "mesh2.example");
    assertThat(Pem.parseCertificates(byDomain.get("cluster.local"), null)).containsExactly(ours);
    assertThat(Pem.parseCertificates(byDomain.get("old.local"), null)).as("an alias is validated with our roots")
        .containsExactly(ours);
    assertThat(Pem.parseCertificates(byDomain.get("mesh2.example"), null)).as("the peer's root vouches for its domain only")
        .containsExactly(peer);
  }

  @Test
  void sidecarInboundValidatesEachClientAgainstItsOwnTrustDomainsRootsOnly() {
    Listener in = unpack(EnvoyListeners.all(view(EnvoySecurityTest.STRICT, false)).get("virtualInbound"), Listener.class);
    for (String name : List.of("virtualInbound", "0.0.0.0_7070", "0.0.0.0_9081")) {
      FilterChain c = EnvoySecurityTest.chain(in, name);
      CommonTlsContext common = EnvoySecurityTest.tls(c).getCommonTlsContext();
      assertThat(common.getTlsCertificateSdsSecretConfigs(0).getName()).as("the key stays with the agent").isEqualTo("default");
      assertPerDomainWithoutMixing(common);
    }
  }

  @Test
  void sidecarAndRouterOutboundValidateTheServerPerTrustDomainAndMatchItsIdentity() {
    for (boolean router : List.of(false, true)) {
      ProxyView view = view(EnvoySecurityTest.REVIEWS_MTLS, router);
      Cluster c = unpack(EnvoyClusters.all(view).get("outbound|9080||" + EnvoySecurityTest.REVIEWS), Cluster.class);
      UpstreamTlsContext tls = unpack(c.getTransportSocket().getTypedConfig(), UpstreamTlsContext.class);
      assertPerDomainWithoutMixing(tls.getCommonTlsContext());
      assertThat(tls.getCommonTlsContext().getValidationContext().getMatchTypedSubjectAltNamesList())
          .extracting(SubjectAltNameMatcher::getSanType, m -> m.getMatcher().getExact())
          .containsExactly(org.assertj.core.groups.Tuple.tuple(SubjectAltNameMatcher.SanType.URI,
              "spiffe://cluster.local/ns/default/sa/default"));
      mesh.close();
      mesh = null;
    }
  }

  @Test
  void withoutKnownRootsTheAgentsRootcaSecretIsUsedAsBefore() {
    ProxyView view = view(EnvoySecurityTest.REVIEWS_MTLS, false);
    ProxyView none = new ProxyView(PushContext.uncached(mesh.registry.current(), new AddressBook()), view.proxy());
    Cluster c = unpack(EnvoyClusters.all(none).get("outbound|9080||" + EnvoySecurityTest.REVIEWS), Cluster.class);
    UpstreamTlsContext tls = unpack(c.getTransportSocket().getTypedConfig(), UpstreamTlsContext.class);
    assertThat(tls.getCommonTlsContext().getCombinedValidationContext().getValidationContextSdsSecretConfig().getName())
        .isEqualTo("ROOTCA");
  }
}
