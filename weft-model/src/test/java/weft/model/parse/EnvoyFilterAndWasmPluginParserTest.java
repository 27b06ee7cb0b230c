package weft.model.parse;

import static org.assertj.core.api.Assertions.assertThat;
import static weft.model.parse.Yamls.errors;
import static weft.model.parse.Yamls.parse;
import static weft.model.parse.Yamls.warnings;

import java.util.Map;
import org.junit.jupiter.api.Test;
import weft.model.ConfigProblem;
import weft.model.EnvoyFilter;
import weft.model.WasmPlugin;

/** EnvoyFilter and WasmPlugin are read and checked as Istio's schema and validation check them. */
class EnvoyFilterAndWasmPluginParserTest {
  @Test
  void anEnvoyFilterIsReadWithItsMatchesAndItsPatchValueAsJson() {
    ParsedFile f = parse("""
        apiVersion: networking.istio.io/v1alpha3
        kind: EnvoyFilter
        metadata: {name: rl, namespace: apps, creationTimestamp: "2026-01-02T03:04:05Z"}
        spec:
          workloadSelector: {labels: {app: web}}
          priority: -3
          configPatches:
          - applyTo: HTTP_FILTER
            match:
              context: SIDECAR_INBOUND
              proxy: {proxyVersion: '^1\\.2.*'}
              listener:
                portNumber: 8080
                filterChain:
                  sni: web.example.com
                  filter:
                    name: envoy.filters.network.http_connection_manager
                    subFilter: {name: envoy.filters.http.router}
            patch:
              operation: INSERT_BEFORE
              value: {name: envoy.filters.http.lua, typed_config: {"@type": "type.googleapis.com/x.Y"}}
          - applyTo: CLUSTER
            match: {cluster: {service: reviews.default.svc.cluster.local, portNumber: 9080, subset: v1}}
            patch: {operation: REMOVE}
        """);
    assertThat(errors(f)).isEmpty();
    EnvoyFilter ef = (EnvoyFilter) f.resources().get(0);
    assertThat(ef.selector()).isEqualTo(Map.of("app", "web"));
    assertThat(ef.priority()).isEqualTo(-3);
    assertThat(ef.createdEpochSecond()).isEqualTo(1767323045L);
    EnvoyFilter.Patch p = ef.patches().get(0);
    assertThat(p.applyTo()).isEqualTo("HTTP_FILTER");
    assertThat(p.operation()).isEqualTo("INSERT_BEFORE");
    assertThat(p.match().context()).isEqualTo("SIDECAR_INBOUND");
    assertThat(p.match().proxyVersion()).isEqualTo("^1\\.2.*");
    assertThat(p.match().listener().portNumber()).isEqualTo(8080);
    assertThat(p.match().listener().filterChain().sni()).isEqualTo("web.example.com");
    assertThat(p.match().listener().filterChain().subFilter()).isEqualTo("envoy.filters.http.router");
    assertThat(p.valueJson()).isEqualTo(
        "{\"name\":\"envoy.filters.http.lua\",\"typed_config\":{\"@type\":\"type.googleapis.com/x.Y\"}}");
    EnvoyFilter.Patch remove = ef.patches().get(1);
    assertThat(remove.valueJson()).isNull();
    assertThat(remove.match().cluster()).isEqualTo(new EnvoyFilter.ClusterMatch(9080, "reviews.default.svc.cluster.local",
        "v1", null));
  }

  @Test
  void operationsAnApplyToCannotTakeAndRemovesWithValuesAreRejectedAsIstioRejectsThem() {
    ParsedFile f = parse("""
        apiVersion: networking.istio.io/v1alpha3
        kind: EnvoyFilter
        metadata: {name: bad, namespace: apps}
        spec:
          configPatches:
          - applyTo: ROUTE_CONFIGURATION
            patch: {operation: INSERT_FIRST, value: {name: x}}
          - applyTo: CLUSTER
            patch: {operation: REMOVE, value: {name: x}}
          - applyTo: LISTENER
            patch: {operation: MERGE}
          - applyTo: LISTENER
            match: {context: SIDECAR_SIDEWAYS}
            patch: {operation: MERGE, value: {}}
          - applyTo: LISTENER
            match: {proxy: {proxyVersion: "(unclosed"}}
            patch: {operation: MERGE, value: {}}
          - applyTo: HTTP_FILTER
            match: {cluster: {name: x}}
            patch: {operation: MERGE, value: {}}
        """);
    assertThat(f.resources()).isEmpty();
    assertThat(errors(f)).extracting(ConfigProblem::message).anySatisfy(m -> assertThat(m)
        .contains("operation INSERT_FIRST cannot be applied to ROUTE_CONFIGURATION"));
    assertThat(errors(f)).extracting(ConfigProblem::message).anySatisfy(m -> assertThat(m)
        .contains("REMOVE patch, which takes no value"));
    assertThat(errors(f)).extracting(ConfigProblem::message).anySatisfy(m -> assertThat(m)
        .contains("a MERGE patch needs a value"));
    assertThat(errors(f)).extracting(ConfigProblem::message).anySatisfy(m -> assertThat(m)
        .contains("a patch applied to HTTP_FILTER can only match on listener"));
    assertThat(errors(f)).extracting(ConfigProblem::field).contains("spec.configPatches[3].match.context",
        "spec.configPatches[4].match.proxy.proxyVersion");
  }

  @Test
  void aWasmPluginIsReadWithItsPhasePriorityConfigAndTrafficSelectors() {
    ParsedFile f = parse("""
        apiVersion: extensions.istio.io/v1alpha1
        kind: WasmPlugin
        metadata: {name: auth, namespace: apps}
        spec:
          selector: {matchLabels: {app: web}}
          url: https://wasm.example.com/auth.wasm
          sha256: %s
          phase: AUTHN
          priority: 7
          pluginName: auth_root
          failStrategy: FAIL_OPEN
          imagePullPolicy: Always
          type: HTTP
          pluginConfig: {realm: example}
          match:
          - mode: SERVER
            ports: [{number: 8080}]
          vmConfig:
            env:
            - {name: A, value: "1"}
            - {name: POD_NAME, valueFrom: HOST}
        """.formatted("AB".repeat(32)));
    assertThat(errors(f)).isEmpty();
    WasmPlugin p = (WasmPlugin) f.resources().get(0);
    assertThat(p.scheme()).isEqualTo("https");
    assertThat(p.sha256()).isEqualTo("ab".repeat(32));
    assertThat(p.phase()).isEqualTo("AUTHN");
    assertThat(p.priority()).isEqualTo(7);
    assertThat(p.pluginConfigJson()).isEqualTo("{\"realm\":\"example\"}");
    assertThat(p.match()).containsExactly(new WasmPlugin.TrafficSelector("SERVER", java.util.List.of(8080)));
    assertThat(p.vmEnv()).isEqualTo(Map.of("A", "1"));
    assertThat(warnings(f)).extracting(ConfigProblem::field).contains("spec.imagePullPolicy",
        "spec.vmConfig.env[1].valueFrom");
  }

  @Test
  void aWasmPluginWithoutUrlOrWithABadDigestIsRejectedAndAnOciReferenceIsKept() {
    ParsedFile f = parse("""
        apiVersion: extensions.istio.io/v1alpha1
        kind: WasmPlugin
        metadata: {name: nourl, namespace: apps}
        spec: {phase: STATS}
        ---
        apiVersion: extensions.istio.io/v1alpha1
        kind: WasmPlugin
        metadata: {name: digest, namespace: apps}
        spec: {url: "https://x.example/m.wasm", sha256: "1234"}
        ---
        apiVersion: extensions.istio.io/v1alpha1
        kind: WasmPlugin
        metadata: {name: oci, namespace: apps}
        spec: {url: "ghcr.io/example/filter:1.0"}
        """);
    assertThat(errors(f)).extracting(ConfigProblem::field).containsExactlyInAnyOrder("spec.url", "spec.sha256");
    assertThat(f.resources()).singleElement().satisfies(r -> assertThat(((WasmPlugin) r).scheme()).isEqualTo("oci"));
  }
}
