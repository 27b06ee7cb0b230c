package weft.model.parse;

import static org.assertj.core.api.Assertions.assertThat;
import static weft.model.parse.Yamls.errors;
import static weft.model.parse.Yamls.only;
import static weft.model.parse.Yamls.parse;
import static weft.model.parse.Yamls.warnings;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import weft.model.ConfigProblem;
import weft.model.MeshConfig;
import weft.model.MeshTelemetry;
import weft.model.ProxyConfig;
import weft.model.Telemetry;
import weft.model.WorkloadGroup;

/** Telemetry, WorkloadGroup, ProxyConfig and MeshConfig's telemetry providers, checked as Istio checks them. */
class TelemetryKindsParserTest {
  @Test
  void telemetryOfEveryScopeIsReadAtV1AndV1alpha1() {
    ParsedFile f = parse("""
        apiVersion: telemetry.istio.io/v1alpha1
        kind: Telemetry
        metadata: {name: web, namespace: default}
        spec:
          selector: {matchLabels: {app: web}}
          accessLogging:
          - providers: [{name: envoy}]
            match: {mode: SERVER}
            filter: {expression: "response.code >= 500"}
          - disabled: true
            match: {mode: CLIENT}
          tracing:
          - providers: [{name: zipkin}]
            randomSamplingPercentage: 12.5
            disableSpanReporting: false
            customTags:
              env: {environment: {name: ENV, defaultValue: dev}}
        """);
    Telemetry t = only(f, Telemetry.class);
    assertThat(t.selector()).isEqualTo(Map.of("app", "web"));
    assertThat(t.accessLogging()).containsExactly(
        new Telemetry.AccessLogging(List.of("envoy"), null, "response.code >= 500", Telemetry.Mode.SERVER),
        new Telemetry.AccessLogging(List.of(), true, null, Telemetry.Mode.CLIENT));
    Telemetry.Tracing tr = t.tracing().get(0);
    assertThat(tr.randomSamplingPercentage()).isEqualTo(12.5);
    assertThat(tr.mode()).isEqualTo(Telemetry.Mode.CLIENT_AND_SERVER);
    assertThat(tr.customTags()).containsEntry("env", new Telemetry.CustomTag(null, "ENV", null, "dev"));
    assertThat(f.problems()).isEmpty();
  }

  @Test
  void metricOverridesAreAcceptedWithOneWarningThatIstioStatsIsNotInStockEnvoy() {
    ParsedFile f = parse("""
        apiVersion: telemetry.istio.io/v1
        kind: Telemetry
        metadata: {name: mesh-default, namespace: istio-system}
        spec:
          metrics:
          - providers: [{name: prometheus}]
            overrides:
            - match: {metric: REQUEST_COUNT, mode: CLIENT}
              tagOverrides:
                request_host: {operation: REMOVE}
            - match: {customMetric: my_metric}
              disabled: true
          - overrides:
            - disabled: true
        """);
    Telemetry t = only(f, Telemetry.class);
    assertThat(t.metricsOverrides()).isEqualTo(2);
    assertThat(warnings(f)).singleElement().satisfies(w -> {
      assertThat(w.field()).isEqualTo("spec.metrics");
      assertThat(w.message()).contains("istio.stats");
    });
  }

  @Test
  void telemetryMistakesAreRejectedWithTheField() {
    ParsedFile f = parse("""
        apiVersion: telemetry.istio.io/v1
        kind: Telemetry
        metadata: {name: bad, namespace: default}
        spec:
          selector: {matchLabels: {app: web}}
          targetRefs: [{group: gateway.networking.k8s.io, kind: Gateway, name: gw}]
          accessLogging:
          - match: {mode: BOTH}
          tracing:
          - randomSamplingPercentage: 150
            customTags:
              two: {literal: {value: a}, header: {name: b}}
        """);
    assertThat(f.resources()).isEmpty();
    assertThat(errors(f)).extracting(ConfigProblem::field).contains("spec.selector",
        "spec.accessLogging[0].match.mode", "spec.tracing[0].randomSamplingPercentage",
        "spec.tracing[0].customTags.two");
  }

  @Test
  void aTelemetryTargetingAGatewayIsKeptAndOneTargetingAServiceIsWarnedAsWaypointOnly() {
    ParsedFile f = parse("""
        apiVersion: telemetry.istio.io/v1
        kind: Telemetry
        metadata: {name: gw, namespace: default}
        spec:
          targetRefs:
          - {group: gateway.networking.k8s.io, kind: Gateway, name: web-gw}
          - {group: "", kind: Service, name: web}
          accessLogging: [{providers: [{name: envoy}]}]
        """);
    Telemetry t = only(f, Telemetry.class);
    assertThat(t.targetRefs()).extracting(Telemetry.TargetRef::name).containsExactly("web-gw", "web");
    assertThat(warnings(f)).singleElement().satisfies(w -> assertThat(w.message()).contains("waypoint"));
  }

  @Test
  void workloadGroupReadsMetadataTemplateAndAcceptsTheProbeWithAWarning() {
    ParsedFile f = parse("""
        apiVersion: networking.istio.io/v1
        kind: WorkloadGroup
        metadata: {name: reviews, namespace: bookinfo}
        spec:
          metadata:
            labels: {app: reviews, version: v3}
            annotations: {owner: vm-team}
          template:
            serviceAccount: reviews-vm
            network: vm-net
            ports: {http: 9080}
            weight: 3
            locality: us-east/zone-a
          probe:
            periodSeconds: 5
            httpGet: {path: /ready, port: 9080}
        """);
    WorkloadGroup g = only(f, WorkloadGroup.class);
    assertThat(g.labels()).containsEntry("version", "v3");
    assertThat(g.annotations()).containsEntry("owner", "vm-team");
    assertThat(g.template().serviceAccount()).isEqualTo("reviews-vm");
    assertThat(g.template().network()).isEqualTo("vm-net");
    assertThat(g.template().ports()).containsEntry("http", 9080);
    assertThat(g.template().weight()).isEqualTo(3);
    assertThat(g.template().address()).isNull();
    assertThat(g.probe()).isTrue();
    assertThat(warnings(f)).singleElement().satisfies(w -> assertThat(w.field()).isEqualTo("spec.probe"));
  }

  @Test
  void aWorkloadGroupTemplateMayNotCarryAnAddress() {
    ParsedFile f = parse("""
        apiVersion: networking.istio.io/v1
        kind: WorkloadGroup
        metadata: {name: reviews, namespace: bookinfo}
        spec:
          template: {address: 10.0.0.1, serviceAccount: reviews}
          probe: {tcpSocket: {port: 80}, exec: {command: [/bin/true]}}
        """);
    assertThat(f.resources()).isEmpty();
    assertThat(errors(f)).extracting(ConfigProblem::field).containsExactly("spec.template.address", "spec.probe");
  }

  @Test
  void proxyConfigReadsConcurrencyImageAndEnvironment() {
    ParsedFile f = parse("""
        apiVersion: networking.istio.io/v1beta1
        kind: ProxyConfig
        metadata: {name: per-workload, namespace: default}
        spec:
          selector: {matchLabels: {app: web}}
          concurrency: 2
          image: {imageType: distroless}
          environmentVariables: {GRPC_GO_LOG_SEVERITY_LEVEL: info, B: "2"}
        """);
    ProxyConfig p = only(f, ProxyConfig.class);
    assertThat(p.concurrency()).isEqualTo(2);
    assertThat(p.image()).isEqualTo("distroless");
    assertThat(p.environmentVariables()).containsExactly(Map.entry("GRPC_GO_LOG_SEVERITY_LEVEL", "info"),
        Map.entry("B", "2"));
    assertThat(f.problems()).isEmpty();
  }

  @Test
  void proxyConfigRejectsANegativeConcurrencyAndAnotherVersion() {
    ParsedFile f = parse("""
        apiVersion: networking.istio.io/v1beta1
        kind: ProxyConfig
        metadata: {name: a, namespace: default}
        spec: {concurrency: -1}
        ---
        apiVersion: networking.istio.io/v1
        kind: ProxyConfig
        metadata: {name: b, namespace: default}
        spec: {concurrency: 1}
        """);
    assertThat(f.resources()).isEmpty();
    assertThat(errors(f)).extracting(ConfigProblem::field).containsExactly("spec.concurrency", "apiVersion");
  }

  @Test
  void meshConfigReadsTelemetryProvidersDefaultsAndTheLegacyAccessLog() {
    Parsed<MeshConfig> p = MeshConfigParser.parseMeshConfig("mesh.yaml", """
        accessLogFile: /dev/stdout
        accessLogEncoding: TEXT
        accessLogFormat: "%RESPONSE_CODE%"
        defaultProviders: {accessLogging: [envoy], tracing: [zipkin]}
        extensionProviders:
        - name: envoy
          envoyFileAccessLog: {path: /dev/stdout, logFormat: {text: "%REQ(:PATH)%"}}
        - name: zipkin
          zipkin: {service: zipkin.istio-system.svc.cluster.local, port: 9411, enable64bitTraceId: true}
        - name: prom
          prometheus: {}
        """);
    MeshTelemetry t = p.value().telemetry();
    assertThat(t.accessLogFile()).isEqualTo("/dev/stdout");
    assertThat(t.accessLogFormat()).isEqualTo("%RESPONSE_CODE%");
    assertThat(t.defaultAccessLogging()).containsExactly("envoy");
    assertThat(t.defaultTracing()).containsExactly("zipkin");
    assertThat(t.provider("ENVOY").fileAccessLog().text()).isEqualTo("%REQ(:PATH)%");
    assertThat(t.provider("zipkin").tracer()).isEqualTo(
        new MeshTelemetry.Tracer("zipkin.istio-system.svc.cluster.local", 9411, 0, "/api/v2/spans", false));
    assertThat(t.provider("prom").type()).isEqualTo("prometheus");
    assertThat(p.problems()).singleElement().satisfies(w -> {
      assertThat(w.severity()).isEqualTo(ConfigProblem.Severity.WARNING);
      assertThat(w.field()).isEqualTo("extensionProviders[2].prometheus");
    });
  }

  @Test
  void meshConfigRefusesAFileProviderWithoutPathAndTwoProvidersInOneEntry() {
    Parsed<MeshConfig> p = MeshConfigParser.parseMeshConfig("mesh.yaml", """
        extensionProviders:
        - name: a
          envoyFileAccessLog: {logFormat: {text: x}}
        - name: b
          zipkin: {service: z.ns.svc.cluster.local, port: 9411}
          datadog: {service: d.ns.svc.cluster.local, port: 8126}
        accessLogEncoding: JSON
        accessLogFormat: "not json"
        """);
    assertThat(p.value()).isNull();
    assertThat(p.problems()).extracting(ConfigProblem::field).contains("extensionProviders[0].envoyFileAccessLog.path",
        "extensionProviders[1]", "accessLogFormat");
  }
}
