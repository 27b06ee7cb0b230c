package weft.xds.envoygen;

import static org.assertj.core.api.Assertions.assertThat;
import static weft.xds.envoygen.EnvoyMesh.unpack;

import com.google.protobuf.Any;
import com.google.protobuf.StringValue;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.extensions.filters.http.wasm.v3.Wasm;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext;
import io.envoyproxy.envoy.extensions.wasm.v3.FailurePolicy;
import io.envoyproxy.envoy.extensions.wasm.v3.PluginConfig;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import weft.xds.Generation;
import weft.xds.Generators;
import weft.xds.TypeUrls;
import weft.xds.view.ProxyView;

/** WasmPlugin YAML in, Envoy wasm filters placed by phase and priority out, checked against Envoy's rules. */
class WasmPluginTest {
  static final String SHA = "a".repeat(64);

  static String plugin(String name, String extra) {
    return """
        apiVersion: extensions.istio.io/v1alpha1
        kind: WasmPlugin
        metadata: {name: %s, namespace: default}
        spec:
          selector:
            matchLabels: {app: productpage}
        %s
        ---
        """.formatted(name, extra.stripTrailing().indent(2).stripTrailing());
  }

  static final String PLUGINS = EnvoySecurityTest.authorizationPolicy("default", "allow-all", """
      selector:
        matchLabels: {app: productpage}
      action: ALLOW
      rules:
      - {}
      """)
      + plugin("authn-low", "url: https://wasm.example.com/authn.wasm\nsha256: " + SHA + "\nphase: AUTHN\npriority: 10")
      + plugin("authn-high", "url: https://wasm.example.com/authn2.wasm\nsha256: " + SHA + "\nphase: AUTHN\npriority: 20")
      + plugin("authz", "url: https://wasm.example.com/authz.wasm\nsha256: " + SHA + "\nphase: AUTHZ")
      + plugin("stats", "url: http://modules.internal:8080/stats.wasm\nsha256: " + SHA + "\nphase: STATS")
      + plugin("plain", """
          url: https://wasm.example.com/plain.wasm
          sha256: %s
          pluginName: plain_root
          failStrategy: FAIL_OPEN
          imagePullPolicy: Always
          pluginConfig: {header: x-plain, values: [1, 2]}
          vmConfig:
            env: [{name: MODE, value: strict}]
          """.formatted(SHA))
      + plugin("client-only", "url: https://wasm.example.com/client.wasm\nsha256: " + SHA + "\nmatch: [{mode: CLIENT}]")
      + plugin("oci", "url: oci://ghcr.io/example/filter:1.0")
      + plugin("no-digest", "url: https://wasm.example.com/nodigest.wasm");

  EnvoyMesh mesh;

  @AfterEach
  void stop() {
    if (mesh != null) mesh.close();
  }

  @Test
  void pluginsArePlacedByPhaseAndPriorityAroundWeftsOwnFilters() {
    mesh = new EnvoyMesh(EnvoySecurityTest.MESH + PLUGINS);
    ProxyView view = mesh.sidecar("default", "10.1.2.1", Map.of("app", "productpage"));
    Generators g = new Generators();
    SortedMap<String, Any> ls = EnvoyFilterTest.listeners(g, view);
    Listener in = unpack(ls.get("virtualInbound"), Listener.class);
    List<String> inbound = EnvoyFilterTest.httpFilters(in, "0.0.0.0_9081");
    assertThat(inbound).containsSubsequence("default.authn-high", "default.authn-low", "default.authz",
        "envoy.filters.http.rbac", "default.stats", "default.plain", WellKnown.ROUTER);
    assertThat(inbound.indexOf("default.stats")).isEqualTo(inbound.size() - 3);
    assertThat(inbound).doesNotContain("default.client-only", "default.oci", "default.no-digest");
    // CLIENT mode: outbound only, before the router.
    List<String> outbound = EnvoyFilterTest.outboundHcm(unpack(ls.get("0.0.0.0_9080"), Listener.class))
        .getHttpFiltersList().stream().map(HttpFilter::getName).toList();
    assertThat(outbound).containsSubsequence("default.authn-high", "default.client-only", WellKnown.ROUTER);

    HttpFilter plain = EnvoyFilterTest.hcm(in, "0.0.0.0_9081").getHttpFilters(inbound.indexOf("default.plain"));
    PluginConfig config = unpack(plain.getTypedConfig(), Wasm.class).getConfig();
    assertThat(config.getName()).isEqualTo("default.plain");
    assertThat(config.getRootId()).isEqualTo("plain_root");
    assertThat(config.getFailurePolicy()).isEqualTo(FailurePolicy.FAIL_OPEN);
    assertThat(unpack(config.getConfiguration(), StringValue.class).getValue())
        .isEqualTo("{\"header\":\"x-plain\",\"values\":[1,2]}");
    assertThat(config.getVmConfig().getRuntime()).isEqualTo("envoy.wasm.runtime.v8");
    assertThat(config.getVmConfig().getEnvironmentVariables().getKeyValuesMap()).containsEntry("MODE", "strict");
    var remote = config.getVmConfig().getCode().getRemote();
    assertThat(remote.getHttpUri().getUri()).isEqualTo("https://wasm.example.com/plain.wasm");
    assertThat(remote.getSha256()).isEqualTo(SHA);
    String fetch = remote.getHttpUri().getCluster();
    assertThat(fetch).isEqualTo("weft-wasm-fetch|https|wasm.example.com|443");
    PluginConfig authz = unpack(EnvoyFilterTest.hcm(in, "0.0.0.0_9081").getHttpFilters(inbound.indexOf("default.authz"))
        .getTypedConfig(), Wasm.class).getConfig();
    assertThat(authz.getFailurePolicy()).as("FAIL_CLOSE is the default").isEqualTo(FailurePolicy.FAIL_CLOSED);

    // Envoy fetches remote modules through a cluster it must have: TLS to the module's host for https.
    Generation clusters = g.generateAll(TypeUrls.CLUSTER, view);
    Cluster https = unpack(clusters.get(fetch), Cluster.class);
    UpstreamTlsContext tls = unpack(https.getTransportSocket().getTypedConfig(), UpstreamTlsContext.class);
    assertThat(tls.getSni()).isEqualTo("wasm.example.com");
    Cluster http = unpack(clusters.get("weft-wasm-fetch|http|modules.internal|8080"), Cluster.class);
    assertThat(http.hasTransportSocket()).isFalse();
    clusters.anys().forEach((n, a) -> assertThat(ProtoRules.violations(a)).as(n).isEmpty());

    assertThat(view.dropped()).hasEntrySatisfying("WasmPlugin default/oci",
        r -> assertThat(r).contains("OCI image").contains("agent"));
    assertThat(view.dropped()).hasEntrySatisfying("WasmPlugin default/no-digest",
        r -> assertThat(r).contains("sha256"));
  }

  @Test
  void aProxylessClientSelectedByAPluginIsAFindingAndGetsNoFilter() {
    mesh = new EnvoyMesh(EnvoySecurityTest.MESH + PLUGINS);
    Generators g = new Generators();
    ProxyView grpc = g.view(mesh.registry.current(), EnvoyFilterTest.sidecar("10.1.2.1", Map.of("app", "productpage"),
        true, ""));
    Generation routes = g.generate(TypeUrls.ROUTE, grpc, List.of("reviews.default.svc.cluster.local:9080"));
    assertThat(routes.failed()).isFalse();
    assertThat(grpc.dropped()).hasEntrySatisfying("WasmPlugin default/plain",
        r -> assertThat(r).contains("proxyless gRPC client"));
    assertThat(routes.anys().values()).allSatisfy(a -> assertThat(a.getValue().toStringUtf8()).doesNotContain("wasm"));
  }
}
