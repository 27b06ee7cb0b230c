package weft.xds.envoygen;

import static org.assertj.core.api.Assertions.assertThat;
import static weft.xds.envoygen.EnvoyMesh.unpack;

import com.google.protobuf.Any;
import com.google.protobuf.ByteString;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.CommonTlsContext;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.Secret;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.SdsSecretConfig;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import weft.xds.Generation;
import weft.xds.Generators;
import weft.xds.TestPem;
import weft.xds.TypeUrls;
import weft.xds.dump.ConfigDumps;
import weft.xds.dump.SentResources;
import weft.xds.grpcgen.GrpcClusters;
import weft.xds.view.ProxyView;

/**
 * DestinationRule {@code credentialName}, YAML in and xDS out, in the shape of Istio's "egress TLS
 * origination with mutual TLS" task: Envoy that proved its identity gets an UpstreamTlsContext whose
 * certificate and CA come by SDS ({@code kubernetes://NAME}, {@code kubernetes://NAME-cacert}), and
 * the Secrets themselves from the proxy's own namespace only; Envoy on the plaintext port and
 * proxyless clients keep the cluster out. Every resource passes Envoy's proto rules.
 */
class CredentialNameSdsTest {
  static final TestPem CLIENT = TestPem.selfSigned("client.example.com");
  static final TestPem CA = TestPem.selfSigned("example.com root");
  static final String HOST = "my-nginx.mesh-external.svc.cluster.local";
  static final String CLUSTER = "outbound|443||" + HOST;

  static final String MESH = """
      apiVersion: networking.istio.io/v1
      kind: ServiceEntry
      metadata: {name: nginx, namespace: default}
      spec:
        hosts: [%s]
        ports: [{number: 443, name: https, protocol: TLS}]
        location: MESH_EXTERNAL
        resolution: DNS
      ---
      apiVersion: networking.istio.io/v1
      kind: DestinationRule
      metadata: {name: originate-mtls-for-nginx, namespace: default}
      spec:
        host: %s
        trafficPolicy:
          portLevelSettings:
          - port: {number: 443}
            tls: {mode: %s, credentialName: client-credential, sni: %s}
      ---
      apiVersion: v1
      kind: Secret
      metadata: {name: client-credential, namespace: default}
      type: kubernetes.io/tls
      data: {tls.crt: %s, tls.key: %s, ca.crt: %s}
      ---
      apiVersion: v1
      kind: Secret
      metadata: {name: other-credential, namespace: prod}
      type: kubernetes.io/tls
      data: {tls.crt: %s, tls.key: %s}
      """;

  static String mesh(String mode) {
    return MESH.formatted(HOST, HOST, mode, HOST, TestPem.b64(CLIENT.certificate()), TestPem.b64(CLIENT.key()),
        TestPem.b64(CA.certificate()), TestPem.b64(CLIENT.certificate()), TestPem.b64(CLIENT.key()));
  }

  static ProxyView verified(EnvoyMesh mesh) {
    ProxyView plain = mesh.sidecar("default", "10.1.2.1", Map.of("app", "sleep"));
    return new ProxyView(mesh.registry.current(), plain.proxy().verifiedIn("default"));
  }

  @Test
  void mutualWithACredentialNameTakesTheCertificateAndTheCaBySdsOverAds() {
    try (EnvoyMesh mesh = new EnvoyMesh(mesh("MUTUAL"))) {
      ProxyView view = verified(mesh);
      Cluster c = EgressTest.cluster(view, CLUSTER);
      UpstreamTlsContext tls = EgressTest.tls(c);
      assertThat(tls.getSni()).isEqualTo(HOST);
      CommonTlsContext common = tls.getCommonTlsContext();
      assertThat(common.getTlsCertificatesList()).isEmpty();
      assertThat(common.getTlsCertificateSdsSecretConfigsList()).singleElement().satisfies(s -> {
        assertThat(s.getName()).isEqualTo("kubernetes://client-credential");
        assertThat(s.getSdsConfig().hasAds()).isTrue();
        // Istio's rule: a missing Secret must not hold up the proxy's start forever.
        assertThat(s.getSdsConfig().hasInitialFetchTimeout()).isFalse();
      });
      var combined = common.getCombinedValidationContext();
      SdsSecretConfig ca = combined.getValidationContextSdsSecretConfig();
      assertThat(ca.getName()).isEqualTo("kubernetes://client-credential-cacert");
      assertThat(ca.getSdsConfig().hasAds()).isTrue();
      assertThat(combined.getDefaultValidationContext().getMatchTypedSubjectAltNamesList())
          .extracting(m -> m.getMatcher().getExact()).containsExactly(HOST);
      assertThat(view.dropped()).doesNotContainKey(CLUSTER);
      EgressTest.assertValid(view);
    }
  }

  @Test
  void simpleWithACredentialNameTakesOnlyTheCaBySds() {
    try (EnvoyMesh mesh = new EnvoyMesh(mesh("SIMPLE"))) {
      CommonTlsContext common = EgressTest.tls(EgressTest.cluster(verified(mesh), CLUSTER)).getCommonTlsContext();
      assertThat(common.getTlsCertificateSdsSecretConfigsList()).isEmpty();
      assertThat(common.getCombinedValidationContext().getValidationContextSdsSecretConfig().getName())
          .isEqualTo("kubernetes://client-credential-cacert");
      EgressTest.assertValid(verified(mesh));
    }
  }

  @Test
  void envoyThatProvedNoIdentityAndProxylessClientsKeepTheClusterOutAndSayWhy() {
    try (EnvoyMesh mesh = new EnvoyMesh(mesh("MUTUAL"))) {
      ProxyView plaintext = mesh.sidecar("default", "10.1.2.1", Map.of("app", "sleep"));
      assertThat(EnvoyClusters.all(plaintext)).doesNotContainKey(CLUSTER);
      assertThat(plaintext.dropped().get(CLUSTER)).contains("credentialName client-credential")
          .contains("proved its identity on the secure port");
      ProxyView grpc = EgressTest.proxyless(mesh);
      assertThat(GrpcClusters.generate(grpc, CLUSTER)).isNull();
      assertThat(grpc.dropped().get(CLUSTER)).contains("proxyless gRPC clients (grpc-java 1.85) do not support");
      // A verified proxyless client still has no SDS.
      ProxyView grpcVerified = new ProxyView(mesh.registry.current(), grpc.proxy().verifiedIn("default"));
      assertThat(GrpcClusters.generate(grpcVerified, CLUSTER)).isNull();
    }
  }

  @Test
  void theSecretsAreSentOnlyToAProxyThatProvedItsIdentityAndOnlyFromItsOwnNamespace() {
    try (EnvoyMesh mesh = new EnvoyMesh(mesh("MUTUAL"))) {
      Generators generators = new Generators();
      ProxyView view = verified(mesh);
      List<String> asked = List.of("kubernetes://client-credential", "kubernetes://client-credential-cacert",
          "kubernetes://default/client-credential", "kubernetes://prod/other-credential",
          "kubernetes://missing", "default");
      Generation g = generators.generate(TypeUrls.SECRET, view, asked);
      assertThat(g.anys()).containsOnlyKeys("kubernetes://client-credential", "kubernetes://client-credential-cacert",
          "kubernetes://default/client-credential");
      Secret cert = unpack(g.get("kubernetes://client-credential"), Secret.class);
      assertThat(cert.getName()).isEqualTo("kubernetes://client-credential");
      assertThat(cert.getTlsCertificate().getCertificateChain().getInlineBytes().toStringUtf8())
          .isEqualTo(CLIENT.certificate());
      assertThat(cert.getTlsCertificate().getPrivateKey().getInlineBytes().toStringUtf8()).isEqualTo(CLIENT.key());
      Secret ca = unpack(g.get("kubernetes://client-credential-cacert"), Secret.class);
      assertThat(ca.getValidationContext().getTrustedCa().getInlineBytes().toStringUtf8()).isEqualTo(CA.certificate());
      assertThat(ca.hasTlsCertificate()).isFalse();
      List<String> problems = new ArrayList<>();
      g.anys().forEach((n, a) -> ProtoRules.violations(a).forEach(v -> problems.add(n + v)));
      assertThat(problems).isEmpty();
      assertThat(view.dropped().get("kubernetes://prod/other-credential")).contains("namespace prod")
          .contains("proved namespace default");
      assertThat(view.dropped().get("kubernetes://missing")).contains("does not exist");
      assertThat(view.dropped().get("default")).contains("not a Kubernetes Secret name");

      ProxyView plaintext = mesh.sidecar("default", "10.1.2.1", Map.of("app", "sleep"));
      assertThat(generators.generate(TypeUrls.SECRET, plaintext, asked).anys()).isEmpty();
      assertThat(plaintext.dropped().get("kubernetes://client-credential")).contains("secure port");
      ProxyView elsewhere = new ProxyView(mesh.registry.current(),
          mesh.sidecar("prod", "10.1.3.1", Map.of("app", "sleep")).proxy().verifiedIn("prod"));
      assertThat(generators.generate(TypeUrls.SECRET, elsewhere, List.of("kubernetes://client-credential",
          "kubernetes://default/client-credential", "kubernetes://other-credential")).anys())
          .containsOnlyKeys("kubernetes://other-credential");
    }
  }

  @Test
  void theConfigDumpOfTheSecretsShowsTheCertificateButNeverTheKey() {
    try (EnvoyMesh mesh = new EnvoyMesh(mesh("MUTUAL"))) {
      Generation g = new Generators().generate(TypeUrls.SECRET, verified(mesh), List.of("kubernetes://client-credential"));
      SortedMap<String, ByteString> bytes = new TreeMap<>();
      g.anys().forEach((n, a) -> bytes.put(n, a.getValue()));
      String dump = ConfigDumps.json(List.of(new SentResources(TypeUrls.SECRET, "1", bytes, Map.of())),
          List.of(TypeUrls.SECRET));
      assertThat(dump).contains("kubernetes://client-credential").contains("[redacted]")
          .contains(base64(CLIENT.certificate()));
      assertThat(dump).doesNotContain(base64(CLIENT.key()));
      for (String line : CLIENT.key().lines().toList()) {
        if (!line.startsWith("-----")) assertThat(dump).doesNotContain(line);
      }
      assertThat(dump).doesNotContain("PRIVATE KEY");
    }
  }

  private static String base64(String s) {
    return java.util.Base64.getEncoder().encodeToString(s.getBytes(StandardCharsets.US_ASCII));
  }

}
