package weft.xds.envoygen;

import static org.assertj.core.api.Assertions.assertThat;
import static weft.xds.envoygen.EnvoyMesh.unpack;

import com.google.protobuf.Any;
import io.envoyproxy.envoy.config.accesslog.v3.AccessLog;
import io.envoyproxy.envoy.config.listener.v3.Filter;
import io.envoyproxy.envoy.config.listener.v3.FilterChain;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.trace.v3.OpenTelemetryConfig;
import io.envoyproxy.envoy.config.trace.v3.ZipkinConfig;
import io.envoyproxy.envoy.extensions.access_loggers.file.v3.FileAccessLog;
import io.envoyproxy.envoy.extensions.access_loggers.filters.cel.v3.ExpressionFilter;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.envoyproxy.envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import org.junit.jupiter.api.Test;
import weft.model.MeshConfig;
import weft.model.parse.MeshConfigParser;
import weft.model.parse.Parsed;
import weft.xds.view.ProxyView;

/**
 * Telemetry YAML in, Envoy access logs and tracing out, in the shapes of Istio's "Envoy Access Logs"
 * and tracing tasks: a mesh-wide default from the root namespace, a namespace that turns it off, a
 * workload that filters client-side logs with CEL, tracing through a zipkin collector with sampling
 * and custom tags, and MeshConfig's older accessLogFile. Every listener stays valid by Envoy's proto
 * rules.
 */
class TelemetryXdsTest {
  static final String MESH = """
      accessLogFile: ""
      extensionProviders:
      - name: envoy
        envoyFileAccessLog: {path: /dev/stdout}
      - name: json-file
        envoyFileAccessLog:
          path: /var/log/access.json
          logFormat: {labels: {code: "%RESPONSE_CODE%", peer: "%DOWNSTREAM_REMOTE_ADDRESS%"}}
      - name: zipkin
        zipkin: {service: zipkin.istio-system.svc.cluster.local, port: 9411, maxTagLength: 256}
      - name: otel
        opentelemetry: {service: otel-collector.observability.svc.cluster.local, port: 4317}
      """;

  /** A web service (HTTP), a database (TCP) and the zipkin collector. */
  static final String SERVICES = """
      apiVersion: v1
      kind: Service
      metadata: {name: web, namespace: default}
      spec:
        clusterIP: 10.96.0.10
        ports: [{name: http, port: 80, targetPort: 8080}]
        selector: {app: web}
      ---
      apiVersion: v1
      kind: Service
      metadata: {name: db, namespace: default}
      spec:
        clusterIP: 10.96.0.11
        ports: [{name: tcp-db, port: 5432}]
        selector: {app: db}
      ---
      apiVersion: v1
      kind: Service
      metadata: {name: zipkin, namespace: istio-system}
      spec:
        clusterIP: 10.96.0.12
        ports: [{name: http-zipkin, port: 9411}]
        selector: {app: zipkin}
      ---
      apiVersion: v1
      kind: Pod
      metadata: {name: web-1, namespace: default, labels: {app: web}}
      spec: {serviceAccountName: web}
      status: {podIP: 10.1.0.5}
      ---
      """;

  static final String MESH_DEFAULT = """
      apiVersion: telemetry.istio.io/v1
      kind: Telemetry
      metadata: {name: mesh-default, namespace: istio-system}
      spec:
        accessLogging:
        - providers: [{name: envoy}]
      ---
      """;

  static EnvoyMesh mesh(String meshConfig, String yaml) {
    EnvoyMesh mesh = new EnvoyMesh(yaml);
    Parsed<MeshConfig> parsed = MeshConfigParser.parseMeshConfig("mesh.yaml", meshConfig);
    assertThat(parsed.problems()).as("mesh config problems").isEmpty();
    mesh.registry.setMeshConfig(parsed.value());
    mesh.registry.flush();
    return mesh;
  }

  static ProxyView web(EnvoyMesh mesh) {
    return new ProxyView(mesh.registry.current(), mesh.sidecar("default", "10.1.0.5", Map.of("app", "web")).proxy());
  }

  /** The access logs of every HCM and tcp_proxy of the listeners, by listener name. */
  static Map<String, List<AccessLog>> logs(ProxyView view) {
    Map<String, List<AccessLog>> out = new java.util.TreeMap<>();
    EnvoyListeners.all(view).forEach((name, any) -> {
      List<AccessLog> logs = new ArrayList<>();
      for (Filter f : filters(unpack(any, Listener.class))) {
        if (f.getTypedConfig().is(HttpConnectionManager.class)) {
          logs.addAll(unpack(f.getTypedConfig(), HttpConnectionManager.class).getAccessLogList());
        } else if (f.getTypedConfig().is(TcpProxy.class)) {
          logs.addAll(unpack(f.getTypedConfig(), TcpProxy.class).getAccessLogList());
        }
      }
      out.put(name, logs);
    });
    return out;
  }

  /** The access logs of each HCM and tcp_proxy of one listener. */
  static List<List<AccessLog>> logsPerFilter(ProxyView view, String listener) {
    List<List<AccessLog>> out = new ArrayList<>();
    for (Filter f : filters(unpack(EnvoyListeners.all(view).get(listener), Listener.class))) {
      if (f.getTypedConfig().is(HttpConnectionManager.class)) {
        out.add(unpack(f.getTypedConfig(), HttpConnectionManager.class).getAccessLogList());
      } else if (f.getTypedConfig().is(TcpProxy.class)) {
        out.add(unpack(f.getTypedConfig(), TcpProxy.class).getAccessLogList());
      }
    }
    return out;
  }

  static List<Filter> filters(Listener l) {
    List<Filter> out = new ArrayList<>();
    for (FilterChain c : l.getFilterChainsList()) out.addAll(c.getFiltersList());
    if (l.hasDefaultFilterChain()) out.addAll(l.getDefaultFilterChain().getFiltersList());
    return out;
  }

  static List<HttpConnectionManager> hcms(ProxyView view, boolean inbound) {
    List<HttpConnectionManager> out = new ArrayList<>();
    EnvoyListeners.all(view).forEach((name, any) -> {
      if (name.equals("virtualInbound") != inbound) return;
      for (Filter f : filters(unpack(any, Listener.class))) {
        if (f.getTypedConfig().is(HttpConnectionManager.class)) {
          out.add(unpack(f.getTypedConfig(), HttpConnectionManager.class));
        }
      }
    });
    return out;
  }

  static FileAccessLog file(AccessLog log) {
    assertThat(log.getName()).isEqualTo("envoy.access_loggers.file");
    return unpack(log.getTypedConfig(), FileAccessLog.class);
  }

  static void assertValid(ProxyView view) {
    List<String> problems = new ArrayList<>();
    SortedMap<String, Any> listeners = EnvoyListeners.all(view);
    listeners.forEach((n, l) -> ProtoRules.violations(l).forEach(v -> problems.add("LDS " + n + v)));
    assertThat(problems).isEmpty();
  }

  @Test
  void withoutTelemetryNoListenerLogs() {
    try (EnvoyMesh mesh = mesh(MESH, SERVICES)) {
      assertThat(logs(web(mesh)).values()).allSatisfy(l -> assertThat(l).isEmpty());
    }
  }

  @Test
  void meshWideTelemetryLogsEveryHttpAndTcpListenerToStdoutInIstiosDefaultFormat() {
    try (EnvoyMesh mesh = mesh(MESH, SERVICES + MESH_DEFAULT)) {
      ProxyView view = web(mesh);
      Map<String, List<AccessLog>> logs = logs(view);
      assertThat(logs).containsKeys("0.0.0.0_80", "10.96.0.11_5432", "virtualInbound", "virtualOutbound");
      logs.forEach((listener, l) -> assertThat(l).as(listener).isNotEmpty().allSatisfy(log -> {
        FileAccessLog f = file(log);
        assertThat(f.getPath()).isEqualTo("/dev/stdout");
        assertThat(f.getLogFormat().getTextFormatSource().getInlineString())
            .startsWith("[%START_TIME%] \"%REQ(:METHOD)%").endsWith("%ROUTE_NAME%\n");
        assertThat(log.hasFilter()).isFalse();
      }));
      assertValid(view);
    }
  }

  @Test
  void aNamespaceTelemetryDisablesTheMeshDefaultForItsWorkloadsOnly() {
    String off = """
        apiVersion: telemetry.istio.io/v1alpha1
        kind: Telemetry
        metadata: {name: quiet, namespace: quiet}
        spec:
          accessLogging:
          - disabled: true
        ---
        """;
    try (EnvoyMesh mesh = mesh(MESH, SERVICES + MESH_DEFAULT + off)) {
      ProxyView quiet = mesh.sidecar("quiet", "10.1.0.9", Map.of("app", "sleep"));
      assertThat(logs(quiet).values()).allSatisfy(l -> assertThat(l).isEmpty());
      assertThat(logsPerFilter(web(mesh), "0.0.0.0_80")).isNotEmpty().allSatisfy(l -> assertThat(l).hasSize(1));
    }
  }

  @Test
  void aWorkloadTelemetryFiltersClientLogsWithCelAndLeavesServerLogsToTheNamespace() {
    String workload = """
        apiVersion: telemetry.istio.io/v1
        kind: Telemetry
        metadata: {name: web-errors, namespace: default}
        spec:
          selector: {matchLabels: {app: web}}
          accessLogging:
          - providers: [{name: json-file}]
            match: {mode: CLIENT}
            filter: {expression: "response.code >= 400"}
        ---
        """;
    try (EnvoyMesh mesh = mesh(MESH, SERVICES + MESH_DEFAULT + workload)) {
      ProxyView view = web(mesh);
      Map<String, List<AccessLog>> logs = logs(view);
      // Client side: the workload's provider replaces the mesh's, gated by the CEL filter.
      assertThat(logsPerFilter(view, "0.0.0.0_80")).isNotEmpty().allSatisfy(perFilter -> assertThat(perFilter)
          .singleElement().satisfies(log -> {
        FileAccessLog f = file(log);
        assertThat(f.getPath()).isEqualTo("/var/log/access.json");
        assertThat(f.getLogFormat().getJsonFormat().getFieldsMap()).containsOnlyKeys("code", "peer");
        assertThat(f.getLogFormat().getJsonFormat().getFieldsOrThrow("code").getStringValue())
            .isEqualTo("%RESPONSE_CODE%");
        assertThat(log.getFilter().getExtensionFilter().getName())
            .isEqualTo("envoy.access_loggers.extension_filters.cel");
        assertThat(unpack(log.getFilter().getExtensionFilter().getTypedConfig(), ExpressionFilter.class)
            .getExpression()).isEqualTo("response.code >= 400");
      }));
      // Server side: the workload's entry is CLIENT only and names another provider, so as in
      // Istio the mesh's envoy provider is out of scope and the inbound side logs nothing.
      assertThat(logs.get("virtualInbound")).isEmpty();
      // Another workload of the namespace keeps the mesh default on both sides.
      ProxyView other = mesh.sidecar("default", "10.1.0.7", Map.of("app", "other"));
      assertThat(logsPerFilter(other, "virtualInbound")).isNotEmpty().allSatisfy(l -> assertThat(l).hasSize(1));
      assertValid(view);
    }
  }

  @Test
  void tracingGoesToTheZipkinCollectorsClusterWithSamplingAndCustomTags() {
    String tracing = """
        apiVersion: telemetry.istio.io/v1
        kind: Telemetry
        metadata: {name: mesh-default, namespace: istio-system}
        spec:
          tracing:
          - providers: [{name: zipkin}]
            randomSamplingPercentage: 10
            customTags:
              team: {literal: {value: payments}}
              user: {header: {name: x-user, defaultValue: anonymous}}
              pod: {environment: {name: POD_NAME}}
        ---
        """;
    try (EnvoyMesh mesh = mesh(MESH, SERVICES + tracing)) {
      ProxyView view = web(mesh);
      List<HttpConnectionManager> outbound = hcms(view, false);
      assertThat(outbound).isNotEmpty().allSatisfy(hcm -> {
        HttpConnectionManager.Tracing t = hcm.getTracing();
        assertThat(t.getProvider().getName()).isEqualTo("envoy.tracers.zipkin");
        ZipkinConfig z = unpack(t.getProvider().getTypedConfig(), ZipkinConfig.class);
        assertThat(z.getCollectorCluster()).isEqualTo("outbound|9411||zipkin.istio-system.svc.cluster.local");
        assertThat(z.getCollectorEndpoint()).isEqualTo("/api/v2/spans");
        assertThat(z.getCollectorEndpointVersion()).isEqualTo(ZipkinConfig.CollectorEndpointVersion.HTTP_JSON);
        assertThat(z.getTraceId128Bit()).isTrue();
        assertThat(t.getRandomSampling().getValue()).isEqualTo(10.0);
        assertThat(t.getMaxPathTagLength().getValue()).isEqualTo(256);
        assertThat(t.getCustomTagsList()).extracting(c -> c.getTag()).containsExactly("pod", "team", "user");
        assertThat(t.getCustomTags(1).getLiteral().getValue()).isEqualTo("payments");
        assertThat(t.getCustomTags(2).getRequestHeader().getDefaultValue()).isEqualTo("anonymous");
        assertThat(hcm.getAccessLogList()).isEmpty();
      });
      assertThat(hcms(view, true)).isNotEmpty().allSatisfy(hcm -> assertThat(hcm.hasTracing()).isTrue());
      // The collector's cluster is one the proxy is sent.
      assertThat(EnvoyClusters.all(view)).containsKey("outbound|9411||zipkin.istio-system.svc.cluster.local");
      assertValid(view);
    }
  }

  @Test
  void tracingToACollectorTheProxyCannotSeeIsLeftOutWithTheReason() {
    String tracing = """
        apiVersion: telemetry.istio.io/v1
        kind: Telemetry
        metadata: {name: web, namespace: default}
        spec:
          selector: {matchLabels: {app: web}}
          tracing:
          - providers: [{name: otel}]
            match: {mode: SERVER}
        ---
        """;
    try (EnvoyMesh mesh = mesh(MESH, SERVICES + tracing)) {
      ProxyView view = web(mesh);
      assertThat(hcms(view, true)).allSatisfy(hcm -> assertThat(hcm.hasTracing()).isFalse());
      assertThat(hcms(view, false)).allSatisfy(hcm -> assertThat(hcm.hasTracing()).isFalse());
      assertThat(view.dropped()).containsKey("telemetry provider otel");
      assertThat(view.dropped().get("telemetry provider otel")).contains("otel-collector.observability");
    }
  }

  @Test
  void openTelemetryTracingOnTheServerSideOnlyNamesTheWorkloadAsService() {
    String collector = """
        apiVersion: v1
        kind: Service
        metadata: {name: otel-collector, namespace: observability}
        spec:
          clusterIP: 10.96.0.20
          ports: [{name: grpc-otlp, port: 4317}]
        ---
        apiVersion: telemetry.istio.io/v1
        kind: Telemetry
        metadata: {name: web, namespace: default}
        spec:
          selector: {matchLabels: {app: web}}
          tracing:
          - providers: [{name: otel}]
            match: {mode: SERVER}
        ---
        """;
    try (EnvoyMesh mesh = mesh(MESH, SERVICES + collector)) {
      ProxyView view = web(mesh);
      assertThat(hcms(view, false)).allSatisfy(hcm -> assertThat(hcm.hasTracing()).isFalse());
      assertThat(hcms(view, true)).isNotEmpty().allSatisfy(hcm -> {
        OpenTelemetryConfig o = unpack(hcm.getTracing().getProvider().getTypedConfig(), OpenTelemetryConfig.class);
        assertThat(o.getGrpcService().getEnvoyGrpc().getClusterName())
            .isEqualTo("outbound|4317||otel-collector.observability.svc.cluster.local");
        assertThat(o.getServiceName()).isEqualTo("web.default");
        assertThat(hcm.getTracing().getRandomSampling().getValue()).isEqualTo(1.0); // Istio's default
      });
      assertValid(view);
    }
  }

  @Test
  void meshConfigAccessLogFileAppliesWhenNoTelemetryConfiguresLogging() {
    String legacy = """
        accessLogFile: /dev/stdout
        accessLogEncoding: JSON
        accessLogFormat: '{"status": "%RESPONSE_CODE%", "took": "%DURATION%"}'
        """;
    try (EnvoyMesh mesh = mesh(legacy, SERVICES)) {
      ProxyView view = web(mesh);
      assertThat(logsPerFilter(view, "10.96.0.11_5432")).singleElement().satisfies(perFilter -> assertThat(perFilter)
          .singleElement().satisfies(log -> {
        FileAccessLog f = file(log);
        assertThat(f.getPath()).isEqualTo("/dev/stdout");
        assertThat(f.getLogFormat().getJsonFormat().getFieldsMap()).containsOnlyKeys("status", "took");
      }));
      assertValid(view);
    }
  }

  @Test
  void proxylessClientsGetANoteInsteadOfAccessLogs() {
    try (EnvoyMesh mesh = mesh(MESH, SERVICES + MESH_DEFAULT)) {
      ProxyView view = EgressTest.proxyless(mesh);
      new weft.xds.Generators().generate(weft.xds.TypeUrls.LISTENER, view, List.of("web.default.svc.cluster.local:80"));
      assertThat(view.dropped()).containsKey("telemetry access logging");
      assertThat(view.dropped().get("telemetry access logging")).contains("grpc-java");
    }
  }
}
