package weft.xds.security;

import static org.assertj.core.api.Assertions.assertThat;
import static weft.xds.security.SecureMesh.CLUSTER;
import static weft.xds.security.SecureMesh.IN_MESH;
import static weft.xds.security.SecureMesh.PLAIN;
import static weft.xds.security.SecureMesh.SERVER_LISTENER;
import static weft.xds.security.SecureMesh.authorizationPolicy;
import static weft.xds.security.SecureMesh.peerAuthentication;

import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.CertificateProviderPluginInstance;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext;
import io.envoyproxy.envoy.type.matcher.v3.StringMatcher;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.Test;
import weft.xds.grpcgen.GrpcClusters;
import weft.xds.view.ProxyView;

/** PeerAuthentication and DestinationRule in, the proxyless server listener's and client cluster's TLS out. */
class ProxylessMtlsTest {
  static final String MESH_STRICT = peerAuthentication("istio-system", "default", "mtls: {mode: STRICT}");
  static final String NS_STRICT = peerAuthentication("default", "default", "mtls: {mode: STRICT}");
  static final String NS_PERMISSIVE = peerAuthentication("default", "default", "mtls: {mode: PERMISSIVE}");
  static final String NS_DISABLE = peerAuthentication("default", "default", "mtls: {mode: DISABLE}");

  static final CertificateProviderPluginInstance CERT = CertificateProviderPluginInstance.newBuilder()
      .setInstanceName("default").setCertificateName("default").build();
  static final CertificateProviderPluginInstance ROOTS = CertificateProviderPluginInstance.newBuilder()
      .setInstanceName("default").setCertificateName("ROOTCA").build();

  static Stream<Arguments> serverModes() {
    return Stream.of(
        // name, policies, server labels, mTLS expected
        Arguments.of("no policy: PERMISSIVE, plaintext for an unlabelled server", "", PLAIN, false),
        Arguments.of("no policy: PERMISSIVE, mTLS for a server labelled tlsMode=istio", "", IN_MESH, true),
        Arguments.of("mesh-wide STRICT", MESH_STRICT, PLAIN, true),
        Arguments.of("namespace DISABLE overrides mesh STRICT", MESH_STRICT + NS_DISABLE, PLAIN, false),
        Arguments.of("workload STRICT overrides namespace DISABLE", NS_DISABLE
            + peerAuthentication("default", "greeter", """
                selector: {matchLabels: {app: greeter}}
                mtls: {mode: STRICT}
                """), PLAIN, true),
        Arguments.of("workload UNSET inherits namespace STRICT", NS_STRICT
            + peerAuthentication("default", "greeter", "selector: {matchLabels: {app: greeter}}"), PLAIN, true),
        Arguments.of("port-level DISABLE on the listener's port overrides workload STRICT", MESH_STRICT
            + peerAuthentication("default", "greeter", """
                selector: {matchLabels: {app: greeter}}
                mtls: {mode: STRICT}
                portLevelMtls: {50051: {mode: DISABLE}}
                """), PLAIN, false),
        Arguments.of("port-level setting for another port leaves this one STRICT", MESH_STRICT
            + peerAuthentication("default", "greeter", """
                selector: {matchLabels: {app: greeter}}
                portLevelMtls: {8080: {mode: DISABLE}}
                """), PLAIN, true),
        Arguments.of("a selector that does not match the server does not apply", NS_STRICT
            + peerAuthentication("default", "other", """
                selector: {matchLabels: {app: other}}
                mtls: {mode: DISABLE}
                """), PLAIN, true),
        Arguments.of("another namespace's policy does not apply", peerAuthentication("other", "default",
            "mtls: {mode: STRICT}"), PLAIN, false),
        Arguments.of("a root-namespace policy with a selector is not mesh-wide (Istio ignores it)",
            peerAuthentication("istio-system", "greeter", """
                selector: {matchLabels: {app: greeter}}
                mtls: {mode: STRICT}
                """), PLAIN, false));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("serverModes")
  void serverListenerFollowsPeerAuthentication(String name, String policies, Map<String, String> labels,
      boolean mtls) {
    try (SecureMesh mesh = new SecureMesh(SecureMesh.greeter(labels, PLAIN) + policies)) {
      DownstreamTlsContext tls = SecureMesh.serverTls(SecureMesh.listener(mesh.server(labels), SERVER_LISTENER));
      if (!mtls) {
        assertThat(tls).isNull();
        return;
      }
      assertThat(tls.getRequireClientCertificate().getValue()).isTrue();
      assertThat(tls.getCommonTlsContext().getTlsCertificateProviderInstance()).isEqualTo(CERT);
      assertThat(tls.getCommonTlsContext().getValidationContext().getCaCertificateProviderInstance()).isEqualTo(ROOTS);
      // grpc-java rejects SAN matchers on a server, and SDS configs anywhere.
      assertThat(tls.getCommonTlsContext().getValidationContext().getMatchSubjectAltNamesList()).isEmpty();
      assertThat(tls.getCommonTlsContext().getTlsCertificateSdsSecretConfigsList()).isEmpty();
    }
  }

  @Test
  void permissiveServerRecordsWhatGrpcCannotDo() {
    try (SecureMesh mesh = new SecureMesh(SecureMesh.greeter(PLAIN, PLAIN))) {
      ProxyView view = mesh.server(PLAIN);
      SecureMesh.listener(view, SERVER_LISTENER);
      assertThat(view.dropped().get(SERVER_LISTENER)).contains("PERMISSIVE").contains("plaintext only")
          .contains("security.istio.io/tlsMode=istio");
    }
  }

  @Test
  void twoNamespaceWidePoliciesKeepTheFirstByNameAndSayWhy() {
    try (SecureMesh mesh = new SecureMesh(SecureMesh.greeter(PLAIN, PLAIN) + NS_DISABLE
        + peerAuthentication("default", "zz-strict", "mtls: {mode: STRICT}"))) {
      ProxyView view = mesh.server(PLAIN);
      assertThat(SecureMesh.serverTls(SecureMesh.listener(view, SERVER_LISTENER))).isNull();
      assertThat(view.dropped().get("PeerAuthentication default/zz-strict")).contains("PeerAuthentication default/default");
    }
  }

  static final String SA_GREETER = "spiffe://cluster.local/ns/default/sa/greeter";
  static final String SA_CANARY = "spiffe://cluster.local/ns/default/sa/greeter-canary";

  static String rule(String tls) {
    return """
        apiVersion: networking.istio.io/v1
        kind: DestinationRule
        metadata: {name: greeter, namespace: default}
        spec:
          host: greeter
          trafficPolicy:
            tls: %s
        ---
        """.formatted(tls);
  }

  static Stream<Arguments> clientModes() {
    return Stream.of(
        // name, pod labels (both pods), config, mTLS expected
        Arguments.of("DestinationRule ISTIO_MUTUAL", PLAIN, rule("{mode: ISTIO_MUTUAL}"), true),
        Arguments.of("DestinationRule DISABLE wins over a STRICT server", PLAIN, NS_STRICT + rule("{mode: DISABLE}"),
            false),
        Arguments.of("auto mTLS to a STRICT namespace", PLAIN, NS_STRICT, true),
        Arguments.of("auto mTLS to a mesh-wide STRICT server", PLAIN, MESH_STRICT, true),
        Arguments.of("auto mTLS to PERMISSIVE servers in the mesh", IN_MESH, NS_PERMISSIVE, true),
        Arguments.of("auto mTLS to in-mesh servers without any policy (PERMISSIVE)", IN_MESH, "", true),
        Arguments.of("plaintext to PERMISSIVE servers outside the mesh", PLAIN, NS_PERMISSIVE, false),
        Arguments.of("plaintext to a DISABLE namespace, in the mesh or not", IN_MESH, NS_DISABLE, false),
        Arguments.of("plaintext when the server port is DISABLE at port level", IN_MESH, NS_STRICT
            + peerAuthentication("default", "greeter", """
                selector: {matchLabels: {app: greeter}}
                portLevelMtls: {50051: {mode: DISABLE}}
                """), false));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("clientModes")
  void clientClusterOriginatesMtlsWhenTheServerTakesIt(String name, Map<String, String> labels, String config,
      boolean mtls) {
    try (SecureMesh mesh = new SecureMesh(SecureMesh.greeter(labels, labels) + config)) {
      UpstreamTlsContext tls = SecureMesh.clientTls(SecureMesh.cluster(mesh.client(), CLUSTER));
      if (!mtls) {
        assertThat(tls).isNull();
        return;
      }
      var common = tls.getCommonTlsContext();
      assertThat(common.getTlsCertificateProviderInstance()).isEqualTo(CERT);
      assertThat(common.getValidationContext().getCaCertificateProviderInstance()).isEqualTo(ROOTS);
      assertThat(common.getValidationContext().getMatchSubjectAltNamesList())
          .containsExactly(exact(SA_GREETER), exact(SA_CANARY));
      // The cluster's name as SNI (the DNS-valid alias grpc-java will send), for east-west gateways.
      assertThat(tls.getSni()).isEqualTo("outbound-50051.greeter.default.svc.cluster.local");
      assertThat(common.getTlsCertificateSdsSecretConfigsList()).isEmpty();
    }
  }

  @Test
  void transportSocketHasTheNameGrpcJavaRequires() {
    try (SecureMesh mesh = new SecureMesh(SecureMesh.greeter(PLAIN, PLAIN) + MESH_STRICT)) {
      assertThat(SecureMesh.cluster(mesh.client(), CLUSTER).getTransportSocket().getName())
          .isEqualTo("envoy.transport_sockets.tls");
      assertThat(SecureMesh.listener(mesh.server(PLAIN), SERVER_LISTENER).getFilterChains(0).getTransportSocket()
          .getName()).isEqualTo("envoy.transport_sockets.tls");
    }
  }

  @Test
  void subjectAltNamesFromTheDestinationRuleReplaceTheServiceAccounts() {
    try (SecureMesh mesh = new SecureMesh(SecureMesh.greeter(PLAIN, PLAIN)
        + rule("{mode: ISTIO_MUTUAL, subjectAltNames: [\"spiffe://cluster.local/ns/default/sa/special\"]}"))) {
      UpstreamTlsContext tls = SecureMesh.clientTls(SecureMesh.cluster(mesh.client(), CLUSTER));
      assertThat(tls.getCommonTlsContext().getValidationContext().getMatchSubjectAltNamesList())
          .containsExactly(exact("spiffe://cluster.local/ns/default/sa/special"));
    }
  }

  @Test
  void serversThatDisagreeLeaveTheClusterPlaintextAndSayWhy() {
    try (SecureMesh mesh = new SecureMesh(SecureMesh.greeter(IN_MESH, PLAIN))) {
      ProxyView client = mesh.client();
      assertThat(SecureMesh.clientTls(SecureMesh.cluster(client, CLUSTER))).isNull();
      assertThat(client.dropped().get(CLUSTER)).contains("1 of 2 endpoints take mTLS");
    }
  }

  @Test
  void subsetClusterDecidesByItsOwnEndpoints() {
    Map<String, String> canary = Map.of("app", "greeter", "track", "canary", Identities.TLS_MODE_LABEL, "istio");
    String subsets = """
        apiVersion: networking.istio.io/v1
        kind: DestinationRule
        metadata: {name: greeter, namespace: default}
        spec:
          host: greeter
          subsets: [{name: canary, labels: {track: canary}}]
        ---
        """;
    try (SecureMesh mesh = new SecureMesh(SecureMesh.greeter(PLAIN, canary) + subsets)) {
      ProxyView client = mesh.client();
      assertThat(SecureMesh.clientTls(SecureMesh.cluster(client, "outbound|50051|canary|" + SecureMesh.GREETER)))
          .isNotNull();
      assertThat(SecureMesh.clientTls(SecureMesh.cluster(client, CLUSTER))).isNull();
    }
  }

  @Test
  void simpleIsOriginatedWithTheSystemRootsAndMutualIsLeftOutInsteadOfSentPlaintext() {
    try (SecureMesh mesh = new SecureMesh(SecureMesh.greeter(PLAIN, PLAIN) + rule("{mode: SIMPLE}"))) {
      UpstreamTlsContext tls = SecureMesh.clientTls(SecureMesh.cluster(mesh.client(), CLUSTER));
      assertThat(tls.getSni()).isEqualTo(SecureMesh.GREETER);
      assertThat(tls.getCommonTlsContext().getValidationContext().hasSystemRootCerts()).isTrue();
      assertThat(tls.getCommonTlsContext().getValidationContext().getMatchSubjectAltNamesList())
          .containsExactly(exact(SecureMesh.GREETER));
      assertThat(tls.getCommonTlsContext().hasTlsCertificateProviderInstance()).isFalse();
    }
    String mutual = "{mode: MUTUAL, clientCertificate: /etc/c.pem, privateKey: /etc/k.pem}";
    try (SecureMesh mesh = new SecureMesh(SecureMesh.greeter(PLAIN, PLAIN) + rule(mutual))) {
      ProxyView client = mesh.client();
      assertThat(GrpcClusters.generate(client, CLUSTER)).isNull();
      assertThat(client.dropped().get(CLUSTER)).contains("spec.trafficPolicy.tls.mode MUTUAL")
          .contains("cannot honour").contains("ISTIO_MUTUAL");
    }
  }

  @Test
  void outputIsTheSameForTheSameInput() {
    String yaml = SecureMesh.greeter(IN_MESH, IN_MESH) + NS_STRICT + authorizationPolicy("default", "a", """
        rules: [{from: [{source: {principals: [cluster.local/ns/client/sa/default]}}]}]
        """);
    try (SecureMesh one = new SecureMesh(yaml); SecureMesh two = new SecureMesh(yaml)) {
      assertThat(SecureMesh.listener(one.server(IN_MESH), SERVER_LISTENER).toByteString())
          .isEqualTo(SecureMesh.listener(two.server(IN_MESH), SERVER_LISTENER).toByteString());
      assertThat(SecureMesh.cluster(one.client(), CLUSTER).toByteString())
          .isEqualTo(SecureMesh.cluster(two.client(), CLUSTER).toByteString());
    }
  }

  static StringMatcher exact(String s) {
    return StringMatcher.newBuilder().setExact(s).build();
  }
}
