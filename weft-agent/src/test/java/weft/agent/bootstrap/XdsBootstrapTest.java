package weft.agent.bootstrap;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.grpc.InsecureServerCredentials;
import io.grpc.Server;
import io.grpc.TlsChannelCredentials;
import io.grpc.xds.InternalGrpcBootstrapperImpl;
import io.grpc.xds.XdsServerBuilder;
import io.grpc.xds.XdsServerCredentials;
import io.grpc.xds.client.Bootstrapper.BootstrapInfo;
import io.grpc.xds.shaded.io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import weft.agent.testing.RecordingAds;
import weft.agent.testing.TestMesh;

/** The bootstrap document, and grpc-java reading it. */
class XdsBootstrapTest {
  @TempDir Path tmp;

  private XdsBootstrap bootstrap(String server, XdsTransport transport) {
    Path dir = tmp.resolve("certs");
    return XdsBootstrap.builder().xdsServer(server, transport).identity(TestMesh.frontend())
        .certificateFiles(dir.resolve("cert-chain.pem"), dir.resolve("key.pem"), dir.resolve("root-cert.pem"))
        .refreshInterval(Duration.ofSeconds(90)).metadata("DNS_CAPTURE", "true").build();
  }

  @Test
  void documentHasIstiosNodeTheServerTemplateAndTheFileWatcherProvider() throws Exception {
    JsonNode doc = new ObjectMapper().readTree(bootstrap("istiod.istio-system.svc:15012", XdsTransport.MUTUAL_TLS).toJson());
    String dir = tmp.resolve("certs").toString();

    assertThat(doc.at("/server_listener_resource_name_template").asText()).isEqualTo("xds.istio.io/grpc/lds/inbound/%s");
    assertThat(doc.at("/node/id").asText()).isEqualTo("sidecar~10.0.0.5~frontend-7d4b9.default~default.svc.cluster.local");
    JsonNode md = doc.at("/node/metadata");
    assertThat(md.get("GENERATOR").asText()).isEqualTo("grpc");
    assertThat(md.get("NAMESPACE").asText()).isEqualTo("default");
    assertThat(md.get("SERVICE_ACCOUNT").asText()).isEqualTo("frontend");
    assertThat(md.get("CLUSTER_ID").asText()).isEqualTo("cluster1");
    assertThat(md.get("NETWORK").asText()).isEqualTo("network1");
    assertThat(md.get("INSTANCE_IPS").asText()).isEqualTo("10.0.0.5");
    assertThat(md.get("DNS_CAPTURE").asText()).isEqualTo("true");
    assertThat(md.at("/LABELS/app").asText()).isEqualTo("frontend");
    assertThat(md.at("/LABELS/version").asText()).isEqualTo("v1");
    assertThat(doc.at("/node/locality/region").asText()).isEqualTo("us-east1");
    assertThat(doc.at("/node/locality/zone").asText()).isEqualTo("us-east1-b");
    assertThat(doc.at("/node/locality/sub_zone").asText()).isEqualTo("rack7");

    JsonNode provider = doc.at("/certificate_providers/default");
    assertThat(provider.get("plugin_name").asText()).isEqualTo("file_watcher");
    assertThat(provider.at("/config/certificate_file").asText()).isEqualTo(dir + "/cert-chain.pem");
    assertThat(provider.at("/config/private_key_file").asText()).isEqualTo(dir + "/key.pem");
    assertThat(provider.at("/config/ca_certificate_file").asText()).isEqualTo(dir + "/root-cert.pem");
    assertThat(provider.at("/config/refresh_interval").asText()).isEqualTo("90s");

    JsonNode server = doc.at("/xds_servers/0");
    assertThat(server.get("server_uri").asText()).isEqualTo("istiod.istio-system.svc:15012");
    assertThat(server.at("/channel_creds/0/type").asText()).isEqualTo("tls");
    assertThat(server.at("/channel_creds/0/config/ca_certificate_file").asText()).isEqualTo(dir + "/root-cert.pem");
    assertThat(server.at("/channel_creds/0/config/certificate_file").asText()).isEqualTo(dir + "/cert-chain.pem");
    assertThat(server.at("/channel_creds/0/config/private_key_file").asText()).isEqualTo(dir + "/key.pem");
  }

  @Test
  void theSpiffeBundleMapIsNamedInTheFileWatcherProviderOnlyNotInTheXdsChannelCredentials() throws Exception {
    Path dir = tmp.resolve("certs");
    JsonNode doc = new ObjectMapper().readTree(XdsBootstrap.builder()
        .xdsServer("istiod.istio-system.svc:15012", XdsTransport.MUTUAL_TLS).identity(TestMesh.frontend())
        .certificateFiles(dir.resolve("cert-chain.pem"), dir.resolve("key.pem"), dir.resolve("root-cert.pem"))
        .spiffeTrustBundleMapFile(dir.resolve("spiffe-bundle-map.json"))
        .build().toJson());
    assertThat(doc.at("/certificate_providers/default/config/spiffe_trust_bundle_map_file").asText())
        .isEqualTo(dir + "/spiffe-bundle-map.json");
    assertThat(doc.at("/certificate_providers/default/config/ca_certificate_file").asText())
        .as("kept for grpc-java without the A87 flag").isEqualTo(dir + "/root-cert.pem");
    assertThat(doc.at("/xds_servers/0/channel_creds/0/config").has("spiffe_trust_bundle_map_file")).isFalse();
  }

  @Test
  void transportsMapToInsecureOrTlsCredentials() throws Exception {
    ObjectMapper json = new ObjectMapper();
    JsonNode plain = json.readTree(bootstrap("cp:15010", XdsTransport.PLAINTEXT).toJson()).at("/xds_servers/0/channel_creds");
    assertThat(plain.toString()).isEqualTo("[{\"type\":\"insecure\"}]");
    JsonNode tls = json.readTree(bootstrap("cp:15012", XdsTransport.TLS).toJson()).at("/xds_servers/0/channel_creds/0");
    assertThat(tls.get("type").asText()).isEqualTo("tls");
    assertThat(tls.get("config").has("ca_certificate_file")).isTrue();
    assertThat(tls.get("config").has("certificate_file")).isFalse();
    assertThat(tls.get("config").has("private_key_file")).isFalse();
  }

  @Test
  void grpcJavaParsesThePlaintextBootstrap() throws Exception {
    BootstrapInfo info = InternalGrpcBootstrapperImpl.parseBootstrap(bootstrap("localhost:15010", XdsTransport.PLAINTEXT).toMap());
    assertThat(info.servers()).hasSize(1);
    assertThat(info.servers().get(0).target()).isEqualTo("localhost:15010");
    assertThat(info.node().getId()).isEqualTo("sidecar~10.0.0.5~frontend-7d4b9.default~default.svc.cluster.local");
    var node = info.node().toEnvoyProtoNode();
    assertThat(node.getMetadata().getFieldsMap().get("GENERATOR").getStringValue()).isEqualTo("grpc");
    assertThat(node.getMetadata().getFieldsMap().get("CLUSTER_ID").getStringValue()).isEqualTo("cluster1");
    assertThat(node.getMetadata().getFieldsMap().get("LABELS").getStructValue().getFieldsMap().get("app")
        .getStringValue()).isEqualTo("frontend");
    assertThat(node.getLocality().getRegion()).isEqualTo("us-east1");
    assertThat(node.getLocality().getSubZone()).isEqualTo("rack7");
    assertThat(info.serverListenerResourceNameTemplate()).isEqualTo("xds.istio.io/grpc/lds/inbound/%s");
    assertThat(info.certProviders()).containsOnlyKeys("default");
    assertThat(info.certProviders().get("default").pluginName()).isEqualTo("file_watcher");
    assertThat(info.certProviders().get("default").config().get("refresh_interval")).isEqualTo("90s");
  }

  @Test
  void grpcJavaTakesTheTlsConfigThroughTheAgentsProvider() throws Exception {
    try (TestMesh mesh = TestMesh.start(tmp, Clock.systemUTC())) {
      Path dir = tmp.resolve("certs");
      Files.createDirectories(dir);
      Files.copy(mesh.rootFile, dir.resolve("root-cert.pem"));
      BootstrapInfo info = InternalGrpcBootstrapperImpl.parseBootstrap(bootstrap("localhost:15012", XdsTransport.TLS).toMap());
      Object creds = info.servers().get(0).implSpecificConfig();
      assertThat(creds).isInstanceOf(TlsChannelCredentials.class);
      // grpc-java's own "tls" provider ignores the config and sets no trust managers; ours does.
      assertThat(((TlsChannelCredentials) creds).getTrustManagers()).isNotEmpty();
    }
  }

  @Test
  void tlsConfigNamingMissingFilesIsRejectedByGrpcJava() {
    Map<String, Object> doc = bootstrap("localhost:15012", XdsTransport.MUTUAL_TLS).toMap();
    assertThatThrownBy(() -> InternalGrpcBootstrapperImpl.parseBootstrap(doc))
        .hasMessageContaining("no supported channel credentials");
  }

  @Test
  void anXdsServerAsksForIstiosInboundListenerName() throws Exception {
    RecordingAds ads = new RecordingAds();
    Server cp = io.grpc.Grpc.newServerBuilderForPort(0, InsecureServerCredentials.create())
        .addService(ads.definition()).build().start();
    int port;
    try (java.net.ServerSocket free = new java.net.ServerSocket(0)) {
      port = free.getLocalPort();
    }
    Server app = XdsServerBuilder.forPort(port, XdsServerCredentials.create(InsecureServerCredentials.create()))
        .overrideBootstrapForTest(bootstrap("localhost:" + cp.getPort(), XdsTransport.PLAINTEXT).toMap())
        .build();
    Thread starter = new Thread(() -> {
      try {
        app.start(); // blocks until the listener arrives, which it never does here
      } catch (Exception e) {
        // shut down below
      }
    });
    starter.setDaemon(true);
    starter.start();
    try {
      DiscoveryRequest lds = ads.requests.poll(20, TimeUnit.SECONDS);
      assertThat(lds).as("grpc-java asked the control plane in the bootstrap").isNotNull();
      assertThat(lds.getTypeUrl()).isEqualTo("type.googleapis.com/envoy.config.listener.v3.Listener");
      assertThat(lds.getResourceNamesList()).singleElement().asString().startsWith("xds.istio.io/grpc/lds/inbound/")
          .endsWith(":" + port);
      assertThat(lds.getNode().getId()).isEqualTo("sidecar~10.0.0.5~frontend-7d4b9.default~default.svc.cluster.local");
      assertThat(lds.getNode().getMetadata().getFieldsMap().get("GENERATOR").getStringValue()).isEqualTo("grpc");
      assertThat(lds.getNode().getLocality().getSubZone()).isEqualTo("rack7");
    } finally {
      app.shutdownNow();
      cp.shutdownNow();
    }
  }

  @Test
  void refreshIntervalBelowASecondIsRefused() {
    assertThatThrownBy(() -> XdsBootstrap.builder().refreshInterval(Duration.ofMillis(500)))
        .hasMessageContaining("at least 1s");
  }

  @Test
  void installerRefusesWhenGrpcWouldReadAnEarlierSource() {
    BootstrapInstaller installer = new BootstrapInstaller(Map.of("GRPC_XDS_BOOTSTRAP", "/etc/istio/proxy/grpc-bootstrap.json")::get);
    assertThatThrownBy(() -> installer.installInProcess(bootstrap("cp:15010", XdsTransport.PLAINTEXT)))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("environment variable GRPC_XDS_BOOTSTRAP");
    assertThat(System.getProperty(BootstrapInstaller.CONFIG_PROPERTY)).isNull();
  }

  @Test
  void fileIsWrittenWhole() throws Exception {
    Path file = tmp.resolve("out/grpc-bootstrap.json");
    XdsBootstrap b = bootstrap("cp:15010", XdsTransport.PLAINTEXT);
    BootstrapInstaller.writeFile(b, file);
    assertThat(new ObjectMapper().readTree(file.toFile())).isEqualTo(new ObjectMapper().readTree(b.toJson()));
    try (var s = Files.list(file.getParent())) {
      assertThat(s.map(p -> p.getFileName().toString()).toList()).containsExactly("grpc-bootstrap.json");
    }
  }
}
