package weft.xds.dump;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.protobuf.Any;
import com.google.protobuf.ByteString;
import io.envoyproxy.envoy.config.core.v3.DataSource;
import io.envoyproxy.envoy.config.core.v3.TransportSocket;
import io.envoyproxy.envoy.config.listener.v3.FilterChain;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.CommonTlsContext;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.GenericSecret;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.Secret;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.TlsCertificate;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import weft.xds.TypeUrls;

/** Config dumps in Envoy's shape, with every private key and secret replaced whatever its form or depth. */
class ConfigDumpsTest {
  static final String KEY_PEM = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcw\n-----END PRIVATE KEY-----\n";
  static final String CERT_PEM = "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUT\n-----END CERTIFICATE-----\n";

  @Test
  void sdsSecretsKeepTheirCertificateButNeverTheirKeyInAnyForm() throws Exception {
    Secret inlineBytes = Secret.newBuilder().setName("default").setTlsCertificate(TlsCertificate.newBuilder()
        .setCertificateChain(DataSource.newBuilder().setInlineString(CERT_PEM))
        .setPrivateKey(DataSource.newBuilder().setInlineBytes(ByteString.copyFromUtf8(KEY_PEM)))
        .setPassword(DataSource.newBuilder().setInlineString("hunter2"))).build();
    Secret inlineString = Secret.newBuilder().setName("gateway-cert").setTlsCertificate(TlsCertificate.newBuilder()
        .setPrivateKey(DataSource.newBuilder().setInlineString(KEY_PEM))).build();
    Secret generic = Secret.newBuilder().setName("hmac").setGenericSecret(GenericSecret.newBuilder()
        .setSecret(DataSource.newBuilder().setInlineString("shared-hmac-key"))).build();
    SentResources sent = new SentResources(ConfigDumps.SECRET, "7", new TreeMap<>(Map.of(
        "default", inlineBytes.toByteString(), "gateway-cert", inlineString.toByteString(),
        "hmac", generic.toByteString())), Map.of());

    String json = ConfigDumps.json(List.of(sent), ConfigDumps.ALL_TYPES);

    assertThat(json).doesNotContain("PRIVATE KEY").doesNotContain("MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcw")
        .doesNotContain(base64(KEY_PEM)).doesNotContain("hunter2").doesNotContain("shared-hmac-key");
    JsonNode secrets = section(json, "SecretsConfigDump").path("dynamic_active_secrets");
    assertThat(secrets).hasSize(3);
    JsonNode tls = secrets.get(0).path("secret").path("tls_certificate");
    assertThat(secrets.get(0).path("name").asText()).isEqualTo("default");
    assertThat(tls.path("certificate_chain").path("inline_string").asText()).isEqualTo(CERT_PEM);
    assertThat(tls.path("private_key").path("inline_string").asText()).isEqualTo("[redacted]");
    assertThat(tls.path("password").path("inline_string").asText()).isEqualTo("[redacted]");
    assertThat(secrets.get(1).path("secret").path("tls_certificate").path("private_key").path("inline_string").asText())
        .isEqualTo("[redacted]");
    assertThat(secrets.get(2).path("secret").path("generic_secret").path("secret").path("inline_string").asText())
        .isEqualTo("[redacted]");
  }

  @Test
  void aKeyInsideATransportSocketOfAListenerIsRedactedToo() throws Exception {
    DownstreamTlsContext tls = DownstreamTlsContext.newBuilder().setCommonTlsContext(CommonTlsContext.newBuilder()
        .addTlsCertificates(TlsCertificate.newBuilder()
            .setCertificateChain(DataSource.newBuilder().setFilename("/etc/certs/cert.pem"))
            .setPrivateKey(DataSource.newBuilder().setInlineBytes(ByteString.copyFromUtf8(KEY_PEM))))).build();
    Listener listener = Listener.newBuilder().setName("0.0.0.0_443").addFilterChains(FilterChain.newBuilder()
        .setTransportSocket(TransportSocket.newBuilder().setName("envoy.transport_sockets.tls")
            .setTypedConfig(Any.pack(tls)))).build();
    SentResources sent = new SentResources(TypeUrls.LISTENER, "3",
        new TreeMap<>(Map.of("0.0.0.0_443", listener.toByteString())), Map.of());

    String json = ConfigDumps.json(List.of(sent), List.of(TypeUrls.LISTENER));

    assertThat(json).doesNotContain("PRIVATE KEY").doesNotContain(base64(KEY_PEM));
    JsonNode l = section(json, "ListenersConfigDump").path("dynamic_listeners").get(0);
    assertThat(l.path("name").asText()).isEqualTo("0.0.0.0_443");
    JsonNode cert = l.path("active_state").path("listener").path("filter_chains").get(0).path("transport_socket")
        .path("typed_config").path("common_tls_context").path("tls_certificates").get(0);
    assertThat(cert.path("certificate_chain").path("filename").asText()).isEqualTo("/etc/certs/cert.pem");
    assertThat(cert.path("private_key").path("inline_string").asText()).isEqualTo("[redacted]");
  }

  @Test
  void privateKeyFieldsAreTheOnesEnvoysApiMarksSensitive() {
    assertThat(Redaction.isSecret(TlsCertificate.getDescriptor().findFieldByName("private_key"))).isTrue();
    assertThat(Redaction.isSecret(GenericSecret.getDescriptor().findFieldByName("secret"))).isTrue();
    assertThat(Redaction.isSecret(TlsCertificate.getDescriptor().findFieldByName("certificate_chain"))).isFalse();
  }

  @Test
  void aTypeTheDumpCannotReadIsLeftOutRatherThanShownRaw() throws Exception {
    SentResources sent = new SentResources("type.googleapis.com/example.Unknown", "1",
        new TreeMap<>(Map.of("x", ByteString.copyFromUtf8(KEY_PEM))), Map.of());
    Any shown = new Redaction(ConfigDumps.TYPES).redactedAny(sent.typeUrl(), sent.resources().get("x"));
    assertThat(shown.getValue().toStringUtf8()).doesNotContain("PRIVATE KEY").contains("not shown");
  }

  @Test
  void everyTypeHasItsSectionEvenWhenNothingWasSentAndVersionsFollowTheStream() throws Exception {
    SentResources clusters = new SentResources(TypeUrls.CLUSTER, "abc", new TreeMap<>(Map.of("c",
        io.envoyproxy.envoy.config.cluster.v3.Cluster.newBuilder().setName("c").build().toByteString())), Map.of());
    JsonNode root = new ObjectMapper().readTree(ConfigDumps.json(List.of(clusters), ConfigDumps.ALL_TYPES));
    assertThat(root.path("configs")).extracting(n -> n.path("@type").asText()).containsExactly(
        "type.googleapis.com/envoy.admin.v3.ClustersConfigDump", "type.googleapis.com/envoy.admin.v3.EndpointsConfigDump",
        "type.googleapis.com/envoy.admin.v3.ListenersConfigDump", "type.googleapis.com/envoy.admin.v3.RoutesConfigDump",
        "type.googleapis.com/envoy.admin.v3.SecretsConfigDump");
    JsonNode c = root.path("configs").get(0);
    assertThat(c.path("version_info").asText()).isEqualTo("abc");
    assertThat(c.path("dynamic_active_clusters").get(0).path("version_info").asText()).isEqualTo("abc");
    assertThat(c.path("dynamic_active_clusters").get(0).path("cluster").path("name").asText()).isEqualTo("c");
  }

  @Test
  void proxiesAreFoundByIdPodOrUniquePrefixAndAmbiguityListsTheCandidates() {
    List<String> ids = List.of("sidecar~10.0.0.1~reviews-1.default~default.svc.cluster.local",
        "sidecar~10.0.0.2~reviews-12.default~default.svc.cluster.local",
        "router~10.0.0.3~gw-1.istio-system~istio-system.svc.cluster.local");
    assertThat(ProxyMatch.find(ids.get(0), ids)).containsExactly(ids.get(0));
    assertThat(ProxyMatch.find("reviews-1", ids)).containsExactly(ids.get(0));
    assertThat(ProxyMatch.find("reviews-12.default", ids)).containsExactly(ids.get(1));
    assertThat(ProxyMatch.find("gw", ids)).containsExactly(ids.get(2));
    assertThat(ProxyMatch.find("reviews", ids)).containsExactly(ids.get(0), ids.get(1));
    assertThat(ProxyMatch.find("ratings", ids)).isEmpty();
    assertThat(ProxyMatch.find("", ids)).isEmpty();
  }

  static JsonNode section(String json, String type) throws Exception {
    for (JsonNode c : new ObjectMapper().readTree(json).path("configs")) {
      if (c.path("@type").asText().endsWith("." + type)) return c;
    }
    throw new AssertionError("no " + type + " in " + json);
  }

  static String base64(String s) {
    return java.util.Base64.getEncoder().encodeToString(s.getBytes(java.nio.charset.StandardCharsets.UTF_8));
  }
}
