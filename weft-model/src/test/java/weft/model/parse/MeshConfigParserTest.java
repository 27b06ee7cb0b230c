package weft.model.parse;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import weft.model.ConfigProblem;
import weft.model.LocalityLbSetting;
import weft.model.MeshConfig;
import weft.model.MeshNetworks;

class MeshConfigParserTest {
  private static final String FILE = "mesh.yaml";

  private static List<ConfigProblem> errors(Parsed<?> p) {
    return p.problems().stream().filter(x -> x.severity() == ConfigProblem.Severity.ERROR).toList();
  }

  private static List<ConfigProblem> warnings(Parsed<?> p) {
    return p.problems().stream().filter(x -> x.severity() == ConfigProblem.Severity.WARNING).toList();
  }

  @Test
  void readsTheFieldsWeftUsesAndWarnsAboutTheRest() {
    Parsed<MeshConfig> p = MeshConfigParser.parseMeshConfig(FILE, """
        accessLogFile: /dev/stdout
        enableTracing: true
        enableAutoMtls: true
        rootNamespace: istio-config
        trustDomain: example.org
        trustDomainAliases: [old.example.org]
        defaultServiceExportTo: ["."]
        defaultVirtualServiceExportTo: ["*"]
        defaultDestinationRuleExportTo: ["~"]
        localityLbSetting:
          enabled: true
          failover: [{from: us-east, to: us-west}]
        serviceSettings:
        - settings: {clusterLocal: true}
          hosts: ["*.kube-system.svc.cluster.local", "istiod.istio-system.svc.cluster.local"]
        defaultConfig:
          meshId: mesh1
          discoveryAddress: istiod.istio-system.svc:15012
          proxyMetadata: {ISTIO_META_DNS_CAPTURE: "true"}
        outboundTrafficPolicy: {mode: REGISTRY_ONLY}
        extensionProviders:
        - name: otel
          opentelemetry: {service: otel.observability.svc.cluster.local, port: 4317}
        """);
    assertThat(errors(p)).isEmpty();
    MeshConfig mc = p.value();
    assertThat(mc.rootNamespace()).isEqualTo("istio-config");
    assertThat(mc.trustDomain()).isEqualTo("example.org");
    assertThat(mc.trustDomainAliases()).containsExactly("old.example.org");
    assertThat(mc.defaultServiceExportTo()).containsExactly(".");
    assertThat(mc.defaultVirtualServiceExportTo()).containsExactly("*");
    assertThat(mc.defaultDestinationRuleExportTo()).containsExactly("~");
    assertThat(mc.localityLbSetting()).isEqualTo(new LocalityLbSetting(List.of(),
        List.of(new LocalityLbSetting.Failover("us-east", "us-west")), List.of(), true));
    assertThat(mc.serviceSettings()).containsExactly(new MeshConfig.ServiceSettings(true,
        List.of("*.kube-system.svc.cluster.local", "istiod.istio-system.svc.cluster.local")));
    assertThat(mc.meshId()).isEqualTo("mesh1");
    // accessLogFile and the opentelemetry provider are read (telemetry), not warned.
    assertThat(warnings(p)).extracting(ConfigProblem::field).containsExactlyInAnyOrder(
        "enableTracing", "enableAutoMtls", "defaultConfig");
    assertThat(mc.telemetry().accessLogFile()).isEqualTo("/dev/stdout");
    assertThat(mc.telemetry().provider("otel").type()).isEqualTo("opentelemetry");
    assertThat(mc.outboundTrafficPolicy()).isEqualTo(MeshConfig.REGISTRY_ONLY);
    assertThat(warnings(p)).filteredOn(w -> w.field().equals("enableTracing")).singleElement()
        .extracting(ConfigProblem::message).isEqualTo("enableTracing is not used by Weft yet; ignored");
    assertThat(warnings(p)).filteredOn(w -> w.field().equals("defaultConfig")).singleElement()
        .extracting(ConfigProblem::message).asString().contains("discoveryAddress, proxyMetadata");
  }

  @Test
  void emptyInputGivesIstioDefaults() {
    assertThat(MeshConfigParser.parseMeshConfig(FILE, "").value()).isEqualTo(MeshConfig.defaults());
    Parsed<MeshConfig> p = MeshConfigParser.parseMeshConfig(FILE, "trustDomain: corp.local\n");
    assertThat(p.value()).isEqualTo(new MeshConfig("istio-system", "corp.local", List.of(), List.of("*"),
        List.of("*"), List.of("*"), null, List.of(), "", List.of()));
    assertThat(p.problems()).isEmpty();
  }

  @Test
  void snakeCaseAndTopLevelMeshId() {
    Parsed<MeshConfig> p = MeshConfigParser.parseMeshConfig(FILE, """
        root_namespace: mesh-root
        trust_domain_aliases: [a.local]
        meshId: mesh7
        """);
    assertThat(p.value().rootNamespace()).isEqualTo("mesh-root");
    assertThat(p.value().trustDomainAliases()).containsExactly("a.local");
    assertThat(p.value().meshId()).isEqualTo("mesh7");
  }

  @Test
  void theMeshIdDefaultsToTheTrustDomainAndMustBeAHostName() {
    assertThat(MeshConfigParser.parseMeshConfig(FILE, "trustDomain: mesh1.example\n").value().effectiveMeshId())
        .isEqualTo("mesh1.example");
    assertThat(MeshConfigParser.parseMeshConfig(FILE, "defaultConfig: {meshId: mesh1}\n").value().effectiveMeshId())
        .isEqualTo("mesh1");
    Parsed<MeshConfig> bad = MeshConfigParser.parseMeshConfig(FILE, "defaultConfig: {meshId: Mesh_1}\n");
    assertThat(errors(bad)).singleElement().satisfies(e -> {
      assertThat(e.field()).isEqualTo("defaultConfig.meshId");
      assertThat(e.message()).contains("not a DNS name");
    });
  }

  @Test
  void unknownTopLevelFieldIsAnErrorAndGivesNoValue() {
    Parsed<MeshConfig> p = MeshConfigParser.parseMeshConfig(FILE, "trustDomian: example.org\n");
    assertThat(p.value()).isNull();
    assertThat(errors(p)).singleElement().satisfies(e -> {
      assertThat(e.file()).isEqualTo(FILE);
      assertThat(e.field()).isEqualTo("trustDomian");
      assertThat(e.message()).contains("did you mean trustDomain?");
    });
  }

  @Test
  void removedFieldsAreWarnings() {
    Parsed<MeshConfig> p = MeshConfigParser.parseMeshConfig(FILE, "disablePolicyChecks: true\nsdsUdsPath: x\n");
    assertThat(p.value()).isNotNull();
    assertThat(warnings(p)).hasSize(2).allSatisfy(w -> assertThat(w.message()).contains("removed"));
  }

  @Test
  void invalidValuesAreErrors() {
    Parsed<MeshConfig> p = MeshConfigParser.parseMeshConfig(FILE, """
        trustDomain: "Not A Domain"
        defaultServiceExportTo: [Bad_NS]
        localityLbSetting:
          distribute: [{from: us-east/*, to: {"us-east/*": 60, "us-west/*": 30}}]
        """);
    assertThat(p.value()).isNull();
    assertThat(errors(p)).extracting(ConfigProblem::field)
        .containsExactly("trustDomain", "defaultServiceExportTo[0]", "localityLbSetting.distribute[0].to");
  }

  @Test
  void malformedYamlIsAnError() {
    Parsed<MeshConfig> p = MeshConfigParser.parseMeshConfig(FILE, "trustDomain: [oops\n");
    assertThat(p.value()).isNull();
    assertThat(errors(p)).singleElement().extracting(ConfigProblem::message).asString()
        .startsWith("mesh.yaml is not valid YAML");
  }

  @Test
  void acceptsTheWholeIstioConfigMap() {
    String configMap = """
        apiVersion: v1
        kind: ConfigMap
        metadata: {name: istio, namespace: istio-system}
        data:
          mesh: |-
            trustDomain: cm.local
            defaultConfig:
              meshId: cm-mesh
          meshNetworks: |-
            networks:
              network1:
                endpoints: [{fromRegistry: cluster1}]
                gateways: [{address: 1.1.1.1, port: 15443}]
        """;
    MeshConfig mc = MeshConfigParser.parseMeshConfig(FILE, configMap).value();
    assertThat(mc.trustDomain()).isEqualTo("cm.local");
    assertThat(mc.meshId()).isEqualTo("cm-mesh");
    MeshNetworks mn = MeshConfigParser.parseMeshNetworks(FILE, configMap).value();
    assertThat(mn.networks()).containsOnlyKeys("network1");
  }

  @Test
  void readsMeshNetworks() {
    Parsed<MeshNetworks> p = MeshConfigParser.parseMeshNetworks(FILE, """
        networks:
          network1:
            endpoints:
            - fromRegistry: cluster1
            gateways:
            - registryServiceName: istio-eastwestgateway.istio-system.svc.cluster.local
              port: 15443
          network2:
            endpoints:
            - fromCidr: 192.168.0.0/16
            - fromRegistry: cluster2
            gateways:
            - address: 192.168.100.1
              port: "15443"
              locality: us-east-1
        """);
    assertThat(p.problems()).isEmpty();
    assertThat(p.value().networks()).isEqualTo(Map.of(
        "network1", new MeshNetworks.Network(List.of(new MeshNetworks.EndpointSource(null, "cluster1")),
            List.of(new MeshNetworks.Gateway(null, "istio-eastwestgateway.istio-system.svc.cluster.local", 15443,
                null))),
        "network2", new MeshNetworks.Network(List.of(new MeshNetworks.EndpointSource("192.168.0.0/16", null),
            new MeshNetworks.EndpointSource(null, "cluster2")),
            List.of(new MeshNetworks.Gateway("192.168.100.1", null, 15443, "us-east-1")))));
  }

  @Test
  void meshNetworksValidation() {
    assertThat(MeshConfigParser.parseMeshNetworks(FILE, "").value()).isEqualTo(MeshNetworks.empty());
    Parsed<MeshNetworks> p = MeshConfigParser.parseMeshNetworks(FILE, """
        networks:
          n1:
            endpoints:
            - fromCidr: 10.0.0.0/33
            - {fromCidr: 10.0.0.0/8, fromRegistry: c1}
            gateways:
            - {address: 1.1.1.1, port: 0}
            - {port: 15443}
            - {address: 1.1.1.1, port: 15443, weight: 3}
        """);
    assertThat(p.value()).isNull();
    assertThat(errors(p)).extracting(ConfigProblem::field).containsExactly(
        "networks.n1.endpoints[0].fromCidr", "networks.n1.endpoints[1]", "networks.n1.gateways[0].port",
        "networks.n1.gateways[1]", "networks.n1.gateways[2].weight");
    assertThat(MeshConfigParser.parseMeshNetworks(FILE, "network: {}\n").value()).isNull();
  }

  @Test
  void caCertificatesAreReadPerTrustDomainAndBadOnesNamed() {
    String pem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
    Parsed<MeshConfig> ok = MeshConfigParser.parseMeshConfig("mesh.yaml", """
        trustDomain: cluster.local
        caCertificates:
        - pem: |
            %s
          trustDomains: [other.mesh]
        """.formatted(pem.replace("\n", "\n    ")));
    assertThat(ok.value().caCertificates()).hasSize(1);
    assertThat(ok.value().caCertificates().get(0).trustDomains()).containsExactly("other.mesh");
    Parsed<MeshConfig> bad = MeshConfigParser.parseMeshConfig("mesh.yaml", """
        caCertificates:
        - pem: not a certificate
        """);
    assertThat(bad.problems()).anySatisfy(p -> assertThat(p.field()).contains("caCertificates[0].pem"));
  }

  @Test
  void aSpiffeBundleUrlEntryIsAPeerOfOneTrustDomainAndBadOnesAreNamed() {
    Parsed<MeshConfig> ok = MeshConfigParser.parseMeshConfig(FILE, """
        caCertificates:
        - spiffeBundleUrl: bundles.mesh2.example:8443
          trustDomains: [mesh2.example]
        """);
    assertThat(errors(ok)).isEmpty();
    assertThat(warnings(ok)).isEmpty();
    MeshConfig.CaCertificate peer = ok.value().caCertificates().get(0);
    assertThat(peer.spiffeBundleUrl()).isEqualTo("https://bundles.mesh2.example:8443");
    assertThat(peer.pem()).isNull();
    Parsed<MeshConfig> bad = MeshConfigParser.parseMeshConfig(FILE, """
        caCertificates:
        - spiffeBundleUrl: https://a.example/
        - spiffeBundleUrl: http://b.example/
          trustDomains: [b.example]
        """);
    assertThat(errors(bad)).anySatisfy(p -> assertThat(p.field()).contains("caCertificates[0].trustDomains"))
        .anySatisfy(p -> assertThat(p.field()).contains("caCertificates[1].spiffeBundleUrl"));
  }
}
