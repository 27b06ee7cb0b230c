package weft.xds.telemetry;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import weft.model.MeshConfig;
import weft.model.MeshTelemetry;
import weft.model.Telemetry;
import weft.model.parse.MeshConfigParser;
import weft.model.parse.ParsedFile;
import weft.model.parse.ResourceParser;

/**
 * Telemetry scopes merge as Istio merges them (the cases of Istio's "Telemetry API" task and its
 * telemetry_test.go tables, written as our own YAML): the root namespace's default, a namespace
 * that turns logging off, a workload that brings its own provider, default providers from MeshConfig.
 */
class TelemetryMergeTest {
  static final MeshTelemetry MESH = mesh("""
      extensionProviders:
      - {name: envoy, envoyFileAccessLog: {path: /dev/stdout}}
      - {name: file, envoyFileAccessLog: {path: /var/log/a.log}}
      - {name: zipkin, zipkin: {service: zipkin.istio-system.svc.cluster.local, port: 9411}}
      - {name: datadog, datadog: {service: dd.istio-system.svc.cluster.local, port: 8126}}
      """);

  static MeshTelemetry mesh(String yaml) {
    MeshConfig mc = MeshConfigParser.parseMeshConfig("mesh.yaml", yaml).value();
    assertThat(mc).isNotNull();
    return mc.telemetry();
  }

  static List<Telemetry> telemetries(String yaml) {
    ParsedFile f = ResourceParser.parse("t.yaml", yaml);
    assertThat(f.problems()).isEmpty();
    return f.resources().stream().map(Telemetry.class::cast).sorted(java.util.Comparator.comparing(Telemetry::id))
        .toList();
  }

  static EffectiveTelemetry effective(List<Telemetry> all, MeshTelemetry mesh, String ns, Map<String, String> labels) {
    return TelemetryMerge.merge(TelemetryMerge.applicable(all, "istio-system", ns, labels), mesh);
  }

  static List<String> paths(List<EffectiveTelemetry.AccessLog> logs) {
    return logs.stream().map(l -> l.provider().fileAccessLog().path()).toList();
  }

  static final String ROOT = """
      apiVersion: telemetry.istio.io/v1
      kind: Telemetry
      metadata: {name: mesh-default, namespace: istio-system}
      spec:
        accessLogging: [{providers: [{name: envoy}]}]
        tracing: [{providers: [{name: zipkin}], randomSamplingPercentage: 5}]
      ---
      """;

  @Test
  void nothingConfiguredMeansIstiosFallbackForBothSides() {
    EffectiveTelemetry e = effective(List.of(), MESH, "default", Map.of());
    assertThat(e.clientLogs()).isNull();
    assertThat(e.serverLogs()).isNull();
    assertThat(e.clientTracing()).isNull();
  }

  @Test
  void theRootNamespaceDefaultAppliesToEveryNamespace() {
    EffectiveTelemetry e = effective(telemetries(ROOT), MESH, "shop", Map.of("app", "cart"));
    assertThat(paths(e.clientLogs())).containsExactly("/dev/stdout");
    assertThat(paths(e.serverLogs())).containsExactly("/dev/stdout");
    assertThat(e.clientTracing().provider().name()).isEqualTo("zipkin");
    assertThat(e.serverTracing().randomSamplingPercentage()).isEqualTo(5.0);
  }

  @Test
  void aNamespaceDisablesLoggingInheritedFromTheRootWhileTracingStays() {
    List<Telemetry> all = telemetries(ROOT + """
        apiVersion: telemetry.istio.io/v1
        kind: Telemetry
        metadata: {name: quiet, namespace: shop}
        spec:
          accessLogging: [{disabled: true}]
        """);
    EffectiveTelemetry e = effective(all, MESH, "shop", Map.of());
    assertThat(e.clientLogs()).isEmpty();
    assertThat(e.serverLogs()).isEmpty();
    assertThat(e.clientTracing().on()).isTrue();
    assertThat(paths(effective(all, MESH, "default", Map.of()).clientLogs())).containsExactly("/dev/stdout");
  }

  @Test
  void aWorkloadProviderReplacesTheNamespacesAndDisablingByModeLeavesTheOtherSide() {
    List<Telemetry> all = telemetries(ROOT + """
        apiVersion: telemetry.istio.io/v1
        kind: Telemetry
        metadata: {name: cart, namespace: shop}
        spec:
          selector: {matchLabels: {app: cart}}
          accessLogging:
          - providers: [{name: file}]
          - providers: [{name: file}]
            match: {mode: SERVER}
            disabled: true
          tracing:
          - providers: [{name: datadog}]
            match: {mode: CLIENT}
          - match: {mode: SERVER}
            disableSpanReporting: true
        """);
    EffectiveTelemetry e = effective(all, MESH, "shop", Map.of("app", "cart"));
    assertThat(paths(e.clientLogs())).containsExactly("/var/log/a.log");
    assertThat(e.serverLogs()).isEmpty();
    assertThat(e.clientTracing().provider().name()).isEqualTo("datadog");
    assertThat(e.clientTracing().randomSamplingPercentage()).isEqualTo(5.0);
    assertThat(e.serverTracing().provider().name()).isEqualTo("zipkin");
    assertThat(e.serverTracing().on()).isFalse();
    // The selector picks the workload only.
    assertThat(paths(effective(all, MESH, "shop", Map.of("app", "web")).clientLogs())).containsExactly("/dev/stdout");
  }

  @Test
  void defaultProvidersLogWithoutAnyTelemetryAndAnUnknownProviderIsANote() {
    MeshTelemetry mesh = mesh("""
        defaultProviders: {accessLogging: [envoy, missing]}
        extensionProviders:
        - {name: envoy, envoyFileAccessLog: {path: /dev/stdout}}
        """);
    EffectiveTelemetry e = effective(List.of(), mesh, "default", Map.of());
    assertThat(paths(e.clientLogs())).containsExactly("/dev/stdout");
    assertThat(e.notes()).containsKey("telemetry provider missing");
  }

  @Test
  void aTelemetryTargetingAGatewaySelectsThatGatewaysProxiesOnly() {
    List<Telemetry> all = telemetries("""
        apiVersion: telemetry.istio.io/v1
        kind: Telemetry
        metadata: {name: gw, namespace: ingress}
        spec:
          targetRefs: [{group: gateway.networking.k8s.io, kind: Gateway, name: public}]
          accessLogging: [{providers: [{name: envoy}]}]
        """);
    assertThat(paths(effective(all, MESH, "ingress", Map.of("gateway.networking.k8s.io/gateway-name", "public"))
        .clientLogs())).containsExactly("/dev/stdout");
    assertThat(effective(all, MESH, "ingress", Map.of("app", "other")).clientLogs()).isNull();
  }
}
