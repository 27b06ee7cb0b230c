package weft.xds.envoygen;

import static org.assertj.core.api.Assertions.assertThat;
import static weft.xds.envoygen.EnvoyMesh.unpack;

import com.google.protobuf.Any;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.listener.v3.FilterChain;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit;
import io.envoyproxy.envoy.extensions.filters.http.lua.v3.Lua;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import weft.registry.Locality;
import weft.xds.Generation;
import weft.xds.Generators;
import weft.xds.TypeUrls;
import weft.xds.proxy.Proxy;
import weft.xds.view.ProxyView;

/**
 * EnvoyFilter YAML in, patched Envoy resources out, checked against Envoy's validation rules:
 * Istio's order (priority, root namespace first, creation time, name), its match rules, a patch that
 * cannot apply reported while the rest apply, and patched output never shared between proxies whose
 * filters differ.
 */
class EnvoyFilterTest {
  static final String MESH = EnvoyGeneratorsTest.MESH;

  EnvoyMesh mesh;

  @AfterEach
  void stop() {
    if (mesh != null) mesh.close();
  }

  /** An EnvoyFilter whose patches each insert a Lua filter named {@code tag} first in matching HCMs. */
  static String luaFirst(String ns, String name, int priority, String selector, String context, String tag,
      String created) {
    return """
        apiVersion: networking.istio.io/v1alpha3
        kind: EnvoyFilter
        metadata: {name: %s, namespace: %s%s}
        spec:
          %s
          priority: %d
          configPatches:
          - applyTo: HTTP_FILTER
            match:
              context: %s
              listener:
                filterChain:
                  filter: {name: envoy.filters.network.http_connection_manager}
            patch:
              operation: INSERT_FIRST
              value:
                name: %s
                typed_config:
                  "@type": type.googleapis.com/envoy.extensions.filters.http.lua.v3.Lua
                  default_source_code: {inline_string: "function envoy_on_request(h) end"}
        ---
        """.formatted(name, ns, created == null ? "" : ", creationTimestamp: \"" + created + "\"",
        selector == null ? "" : "workloadSelector: {labels: " + selector + "}", priority, context, tag);
  }

  /** The rate-limit shape of Istio's local rate limiting task (our own YAML): a token bucket before the router. */
  static final String LOCAL_RATE_LIMIT = """
      apiVersion: networking.istio.io/v1alpha3
      kind: EnvoyFilter
      metadata: {name: productpage-ratelimit, namespace: default}
      spec:
        workloadSelector:
          labels: {app: productpage}
        configPatches:
        - applyTo: HTTP_FILTER
          match:
            context: SIDECAR_INBOUND
            listener:
              filterChain:
                filter:
                  name: envoy.filters.network.http_connection_manager
                  subFilter: {name: envoy.filters.http.router}
          patch:
            operation: INSERT_BEFORE
            value:
              name: envoy.filters.http.local_ratelimit
              typed_config:
                "@type": type.googleapis.com/envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit
                stat_prefix: http_local_rate_limiter
                token_bucket: {max_tokens: 10, tokens_per_fill: 10, fill_interval: 60s}
                filter_enabled:
                  runtime_key: local_rate_limit_enabled
                  default_value: {numerator: 100, denominator: HUNDRED}
                filter_enforced:
                  runtime_key: local_rate_limit_enforced
                  default_value: {numerator: 100, denominator: HUNDRED}
                response_headers_to_add:
                - append_action: OVERWRITE_IF_EXISTS_OR_ADD
                  header: {key: x-local-rate-limit, value: "true"}
      ---
      """;

  ProxyView productpage(String yaml) {
    mesh = new EnvoyMesh(MESH + yaml);
    return mesh.sidecar("default", "10.1.2.1", Map.of("app", "productpage"));
  }

  static Proxy sidecar(String ip, Map<String, String> labels, boolean proxyless, String istioVersion) {
    return new Proxy("sidecar~" + ip + "~app.default~default.svc.cluster.local", "sidecar", ip, "app", "default",
        "cluster1", "network1", labels, "default", Locality.UNKNOWN, proxyless, "default.svc.cluster.local", false,
        List.of(), "", istioVersion);
  }

  static SortedMap<String, Any> listeners(Generators g, ProxyView view) {
    Generation gen = g.generateAll(TypeUrls.LISTENER, view);
    assertThat(gen.failed()).as(gen.failure()).isFalse();
    SortedMap<String, Any> out = gen.anys();
    out.forEach((name, any) -> assertThat(ProtoRules.violations(any)).as(name).isEmpty());
    return out;
  }

  static List<String> httpFilters(Listener l, String chain) {
    return hcm(l, chain).getHttpFiltersList().stream().map(HttpFilter::getName).toList();
  }

  static HttpConnectionManager hcm(Listener l, String chain) {
    FilterChain c = l.getFilterChainsList().stream().filter(fc -> fc.getName().equals(chain)).findFirst()
        .orElseThrow(() -> new AssertionError("no chain " + chain));
    return unpack(c.getFilters(c.getFiltersCount() - 1).getTypedConfig(), HttpConnectionManager.class);
  }

  static HttpConnectionManager outboundHcm(Listener l) {
    FilterChain c = l.getFilterChainsList().stream().filter(fc -> fc.getFiltersList().stream()
        .anyMatch(f -> f.getName().equals(WellKnown.HCM))).findFirst().orElseThrow();
    return unpack(c.getFiltersList().stream().filter(f -> f.getName().equals(WellKnown.HCM)).findFirst().orElseThrow()
        .getTypedConfig(), HttpConnectionManager.class);
  }

  @Test
  void localRateLimitIsInsertedBeforeTheRouterOfTheInboundHttpChainsOnly() {
    ProxyView view = productpage(LOCAL_RATE_LIMIT);
    SortedMap<String, Any> all = listeners(new Generators(), view);
    Listener in = unpack(all.get("virtualInbound"), Listener.class);
    List<String> filters = httpFilters(in, "0.0.0.0_9081");
    assertThat(filters.subList(filters.size() - 2, filters.size()))
        .containsExactly("envoy.filters.http.local_ratelimit", "envoy.filters.http.router");
    HttpFilter rl = hcm(in, "0.0.0.0_9081").getHttpFiltersList().get(filters.size() - 2);
    LocalRateLimit config = unpack(rl.getTypedConfig(), LocalRateLimit.class);
    assertThat(config.getTokenBucket().getMaxTokens()).isEqualTo(10);
    assertThat(config.getTokenBucket().getFillInterval().getSeconds()).isEqualTo(60);
    // Outbound (SIDECAR_OUTBOUND) HCMs are untouched.
    Listener out = unpack(all.get("0.0.0.0_9080"), Listener.class);
    assertThat(outboundHcm(out).getHttpFiltersList()).extracting(HttpFilter::getName)
        .doesNotContain("envoy.filters.http.local_ratelimit");
    assertThat(view.dropped()).noneSatisfy((k, v) -> assertThat(k).startsWith("EnvoyFilter"));
  }

  @Test
  void luaFilterGoesOnlyIntoTheOutboundListenerOfItsPort() {
    ProxyView view = productpage("""
        apiVersion: networking.istio.io/v1alpha3
        kind: EnvoyFilter
        metadata: {name: lua-9080, namespace: default}
        spec:
          configPatches:
          - applyTo: HTTP_FILTER
            match:
              context: SIDECAR_OUTBOUND
              listener:
                portNumber: 9080
                filterChain:
                  filter:
                    name: envoy.filters.network.http_connection_manager
                    subFilter: {name: envoy.filters.http.router}
            patch:
              operation: INSERT_BEFORE
              value:
                name: envoy.lua
                typedConfig:
                  "@type": type.googleapis.com/envoy.extensions.filters.http.lua.v3.Lua
                  defaultSourceCode:
                    inlineString: |
                      function envoy_on_response(response_handle)
                        response_handle:headers():add("x-lua", "yes")
                      end
        ---
        apiVersion: v1
        kind: Service
        metadata: {name: other, namespace: default}
        spec:
          clusterIP: 10.96.0.70
          ports: [{name: http, port: 8000}]
        ---
        """);
    SortedMap<String, Any> all = listeners(new Generators(), view);
    List<String> at9080 = outboundHcm(unpack(all.get("0.0.0.0_9080"), Listener.class)).getHttpFiltersList().stream()
        .map(HttpFilter::getName).toList();
    assertThat(at9080.subList(at9080.size() - 2, at9080.size())).containsExactly("envoy.lua", WellKnown.ROUTER);
    Lua lua = unpack(outboundHcm(unpack(all.get("0.0.0.0_9080"), Listener.class)).getHttpFilters(at9080.size() - 2)
        .getTypedConfig(), Lua.class);
    assertThat(lua.getDefaultSourceCode().getInlineString()).contains("x-lua");
    assertThat(outboundHcm(unpack(all.get("0.0.0.0_8000"), Listener.class)).getHttpFiltersList())
        .extracting(HttpFilter::getName).doesNotContain("envoy.lua");
  }

  @Test
  void patchesApplyInIstiosOrderAndOneThatCannotApplyIsReportedWhileTheRestApply() {
    // Each filter inserts its tag first, so the final order is the reverse of the order applied.
    String yaml = luaFirst("istio-system", "root-late", 0, null, "SIDECAR_OUTBOUND", "root-p0",
        "2026-01-02T00:00:00Z")
        + luaFirst("default", "ns-early", 0, "{app: productpage}", "SIDECAR_OUTBOUND", "ns-p0-early",
        "2026-01-01T00:00:00Z")
        + luaFirst("default", "ns-late", 0, null, "SIDECAR_OUTBOUND", "ns-p0-late", "2026-01-03T00:00:00Z")
        + luaFirst("default", "ns-first", -5, null, "ANY", "ns-p-5", null)
        + luaFirst("istio-system", "root-last", 10, null, "SIDECAR_OUTBOUND", "root-p10", null)
        // Another namespace's filter never applies to this proxy.
        + luaFirst("other", "elsewhere", 0, null, "ANY", "elsewhere", null)
        + """
        apiVersion: networking.istio.io/v1alpha3
        kind: EnvoyFilter
        metadata: {name: broken, namespace: default}
        spec:
          configPatches:
          - applyTo: HTTP_FILTER
            match: {context: SIDECAR_OUTBOUND}
            patch:
              operation: INSERT_FIRST
              value:
                name: unknown-type
                typed_config: {"@type": type.googleapis.com/example.NotAnEnvoyType, x: 1}
          - applyTo: CLUSTER
            match: {context: SIDECAR_OUTBOUND, cluster: {service: reviews.default.svc.cluster.local}}
            patch:
              operation: MERGE
              value: {connect_timeout: 0.5s}
          - applyTo: BOOTSTRAP
            patch:
              operation: MERGE
              value: {stats_flush_interval: 10s}
          - applyTo: CLUSTER
            match: {cluster: {service: nothing.example}}
            patch: {operation: REMOVE}
        ---
        """;
    ProxyView view = productpage(yaml);
    Generators g = new Generators();
    List<String> filters = outboundHcm(unpack(listeners(g, view).get("0.0.0.0_9080"), Listener.class))
        .getHttpFiltersList().stream().map(HttpFilter::getName).toList();
    // Applied: p-5 (ns), then at p0 the root namespace's before the workload namespace's, those by
    // creation time, then p10.
    assertThat(filters.subList(0, 5)).containsExactly("root-p10", "ns-p0-late", "ns-p0-early", "root-p0", "ns-p-5");
    assertThat(filters).doesNotContain("elsewhere", "unknown-type");
    // The MERGE in the same filter as the bad patch applied, with the Duration replaced whole (not 10.5s).
    Generation clusters = g.generateAll(TypeUrls.CLUSTER, view);
    Cluster reviews = unpack(clusters.get("outbound|9080||reviews.default.svc.cluster.local"), Cluster.class);
    assertThat(reviews.getConnectTimeout().getSeconds()).isZero();
    assertThat(reviews.getConnectTimeout().getNanos()).isEqualTo(500_000_000);
    clusters.anys().forEach((n, a) -> assertThat(ProtoRules.violations(a)).as(n).isEmpty());
    assertThat(view.dropped()).hasEntrySatisfying(
        "EnvoyFilter default/broken configPatches[0] (HTTP_FILTER INSERT_FIRST)",
        reason -> assertThat(reason).contains("example.NotAnEnvoyType").endsWith("this patch is not applied"));
    assertThat(view.dropped()).hasEntrySatisfying(
        "EnvoyFilter default/broken configPatches[2] (BOOTSTRAP MERGE)",
        reason -> assertThat(reason).contains("not supported"));
    // A match that refers to nothing is no finding.
    assertThat(view.dropped()).doesNotContainKey("EnvoyFilter default/broken configPatches[3] (CLUSTER REMOVE)");
  }

  @Test
  void twoProxiesThatShareUnpatchedPartsButNotTheirFiltersNeverSharePatchedOutput() {
    mesh = new EnvoyMesh(MESH + luaFirst("default", "only-a", 0, "{team: a}", "SIDECAR_OUTBOUND", "for-a", null));
    Generators g = new Generators();
    var snapshot = mesh.registry.current();
    ProxyView a = g.view(snapshot, sidecar("10.1.9.1", Map.of("team", "a"), false, ""));
    ProxyView b = g.view(snapshot, sidecar("10.1.9.2", Map.of("team", "b"), false, ""));
    ProxyView a2 = g.view(snapshot, sidecar("10.1.9.3", Map.of("team", "a"), false, ""));
    // Same namespace and no other selector reads "team": one routing key, shared unpatched listeners.
    assertThat(a.routingKey()).isEqualTo(b.routingKey());
    Generation ga = g.generateAll(TypeUrls.LISTENER, a);
    Generation gb = g.generateAll(TypeUrls.LISTENER, b);
    Generation ga2 = g.generateAll(TypeUrls.LISTENER, a2);
    assertThat(outboundHcm(unpack(ga.get("0.0.0.0_9080"), Listener.class)).getHttpFilters(0).getName())
        .isEqualTo("for-a");
    assertThat(outboundHcm(unpack(gb.get("0.0.0.0_9080"), Listener.class)).getHttpFiltersList())
        .extracting(HttpFilter::getName).doesNotContain("for-a");
    // b's listener is the unpatched shared part itself; a2 shares a's patched one.
    assertThat(gb.resources().get("0.0.0.0_9080")).isNotEqualTo(ga.resources().get("0.0.0.0_9080"));
    assertThat(ga2.resources().get("0.0.0.0_9080")).isSameAs(ga.resources().get("0.0.0.0_9080"));
    // The same again in the other order of arrival: b first.
    Generators g2 = new Generators();
    Generation b1 = g2.generateAll(TypeUrls.LISTENER, g2.view(snapshot, sidecar("10.1.9.2", Map.of("team", "b"), false,
        "")));
    Generation a1 = g2.generateAll(TypeUrls.LISTENER, g2.view(snapshot, sidecar("10.1.9.1", Map.of("team", "a"),
        false, "")));
    assertThat(b1.resources().get("0.0.0.0_9080").hash()).isEqualTo(gb.resources().get("0.0.0.0_9080").hash());
    assertThat(a1.resources().get("0.0.0.0_9080").hash()).isEqualTo(ga.resources().get("0.0.0.0_9080").hash());
  }

  @Test
  void proxyVersionRegexMatchesIstioVersionAndAProxylessClientIsOnlyAFinding() {
    mesh = new EnvoyMesh(MESH + """
        apiVersion: networking.istio.io/v1alpha3
        kind: EnvoyFilter
        metadata: {name: versioned, namespace: default}
        spec:
          configPatches:
          - applyTo: ROUTE_CONFIGURATION
            match:
              context: SIDECAR_OUTBOUND
              proxy: {proxyVersion: '^1\\.2[0-9].*'}
              routeConfiguration: {portNumber: 9080}
            patch:
              operation: MERGE
              value: {max_direct_response_body_size_bytes: 2048}
          - applyTo: VIRTUAL_HOST
            match:
              context: SIDECAR_OUTBOUND
              routeConfiguration: {portNumber: 9080, vhost: {name: "allow_any"}}
            patch: {operation: REMOVE}
        ---
        """);
    Generators g = new Generators();
    var snapshot = mesh.registry.current();
    RouteConfiguration v124 = unpack(g.generate(TypeUrls.ROUTE, g.view(snapshot, sidecar("10.1.9.1", Map.of(), false,
        "1.24.2")), List.of("9080")).get("9080"), RouteConfiguration.class);
    RouteConfiguration none = unpack(g.generate(TypeUrls.ROUTE, g.view(snapshot, sidecar("10.1.9.2", Map.of(), false,
        "")), List.of("9080")).get("9080"), RouteConfiguration.class);
    assertThat(v124.getMaxDirectResponseBodySizeBytes().getValue()).isEqualTo(2048);
    assertThat(none.hasMaxDirectResponseBodySizeBytes()).as("no ISTIO_VERSION: a version match fails").isFalse();
    assertThat(v124.getVirtualHostsList()).extracting(v -> v.getName()).doesNotContain("allow_any").isNotEmpty();
    assertThat(ProtoRules.violations(Any.pack(v124))).isEmpty();

    ProxyView grpc = g.view(snapshot, sidecar("10.1.9.3", Map.of(), true, "1.24.2"));
    Generation routes = g.generate(TypeUrls.ROUTE, grpc, List.of("reviews.default.svc.cluster.local:9080"));
    assertThat(routes.failed()).isFalse();
    assertThat(grpc.dropped()).hasEntrySatisfying("EnvoyFilter default/versioned",
        reason -> assertThat(reason).contains("proxyless gRPC client"));
  }

  @Test
  void listenerAndClusterAddsRemovesAndTypedConfigMerges() {
    ProxyView view = productpage(LOCAL_RATE_LIMIT + """
        apiVersion: networking.istio.io/v1alpha3
        kind: EnvoyFilter
        metadata: {name: shape, namespace: istio-system}
        spec:
          priority: 1
          configPatches:
          - applyTo: HTTP_FILTER
            match:
              listener:
                filterChain:
                  filter:
                    name: envoy.filters.network.http_connection_manager
                    subFilter: {name: envoy.filters.http.local_ratelimit}
            patch:
              operation: MERGE
              value:
                typed_config:
                  "@type": type.googleapis.com/envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit
                  token_bucket: {max_tokens: 50, fill_interval: 1s}
          - applyTo: CLUSTER
            match: {context: SIDECAR_OUTBOUND}
            patch:
              operation: ADD
              value:
                name: rate_limit_service
                type: STRICT_DNS
                connect_timeout: 1s
                load_assignment:
                  cluster_name: rate_limit_service
                  endpoints:
                  - lb_endpoints:
                    - endpoint: {address: {socket_address: {address: ratelimit.default.svc.cluster.local, port_value: 8081}}}
          - applyTo: CLUSTER
            match: {cluster: {service: ratings.default.svc.cluster.local}}
            patch: {operation: REMOVE}
          - applyTo: LISTENER
            match: {context: SIDECAR_OUTBOUND, listener: {portNumber: 3306}}
            patch: {operation: REMOVE}
        ---
        """);
    Generators g = new Generators();
    SortedMap<String, Any> ls = listeners(g, view);
    assertThat(ls).doesNotContainKey("10.96.0.20_3306").doesNotContainKey("0.0.0.0_3306");
    Listener in = unpack(ls.get("virtualInbound"), Listener.class);
    List<String> filters = httpFilters(in, "0.0.0.0_9081");
    LocalRateLimit merged = unpack(hcm(in, "0.0.0.0_9081").getHttpFilters(filters.indexOf(
        "envoy.filters.http.local_ratelimit")).getTypedConfig(), LocalRateLimit.class);
    // Merged into the inserted config: the new bucket size and interval, the prefix kept.
    assertThat(merged.getTokenBucket().getMaxTokens()).isEqualTo(50);
    assertThat(merged.getTokenBucket().getFillInterval().getSeconds()).isEqualTo(1);
    assertThat(merged.getStatPrefix()).isEqualTo("http_local_rate_limiter");
    SortedMap<String, Any> cs = g.generateAll(TypeUrls.CLUSTER, view).anys();
    assertThat(cs).containsKey("rate_limit_service").doesNotContainKey("outbound|3306||ratings.default.svc.cluster.local");
    cs.forEach((n, a) -> assertThat(ProtoRules.violations(a)).as(n).isEmpty());
  }

  @Test
  void gatewayPatchesApplyToTheRoutersListenersAndRoutesAndNotToSidecars() {
    String yaml = MESH + EnvoyGatewayTest.BOOKINFO_VS
        + EnvoyGatewayTest.gateway("default", "bookinfo-gateway", "ingressgateway", EnvoyGatewayTest.HTTP_80) + """
        apiVersion: networking.istio.io/v1alpha3
        kind: EnvoyFilter
        metadata: {name: ingress-tweaks, namespace: istio-system}
        spec:
          configPatches:
          # The shape of Istio's rate-limiting task: a TypedStruct wrapping the filter's type.
          - applyTo: HTTP_FILTER
            match:
              context: GATEWAY
              listener:
                portNumber: 80
                filterChain:
                  filter:
                    name: envoy.filters.network.http_connection_manager
                    subFilter: {name: envoy.filters.http.router}
            patch:
              operation: INSERT_BEFORE
              value:
                name: envoy.filters.http.local_ratelimit
                typed_config:
                  "@type": type.googleapis.com/udpa.type.v1.TypedStruct
                  type_url: type.googleapis.com/envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit
                  value:
                    stat_prefix: http_local_rate_limiter
                    token_bucket: {max_tokens: 100, tokens_per_fill: 100, fill_interval: 1s}
          - applyTo: LISTENER_FILTER
            match: {context: GATEWAY, listener: {portNumber: 80}}
            patch:
              operation: INSERT_FIRST
              value:
                name: envoy.filters.listener.proxy_protocol
                typed_config:
                  "@type": type.googleapis.com/envoy.extensions.filters.listener.proxy_protocol.v3.ProxyProtocol
          - applyTo: VIRTUAL_HOST
            match: {context: GATEWAY, routeConfiguration: {portNumber: 80, vhost: {name: "*:80"}}}
            patch:
              operation: MERGE
              value:
                request_headers_to_add:
                - header: {key: x-via-gateway, value: "yes"}
          - applyTo: HTTP_ROUTE
            match:
              context: GATEWAY
              routeConfiguration: {portNumber: 80, vhost: {name: "*:80", route: {action: ROUTE}}}
            patch:
              operation: INSERT_FIRST
              value:
                name: health
                match: {path: /healthz}
                direct_response: {status: 200}
        ---
        """;
    mesh = new EnvoyMesh(yaml);
    Generators g = new Generators();
    ProxyView router = mesh.router("istio-system", "10.1.9.1", EnvoyGatewayTest.INGRESS);
    Listener l = unpack(listeners(g, router).get("0.0.0.0_80"), Listener.class);
    assertThat(l.getListenerFilters(0).getName()).isEqualTo("envoy.filters.listener.proxy_protocol");
    HttpConnectionManager hcm = outboundHcm(l);
    List<String> names = hcm.getHttpFiltersList().stream().map(HttpFilter::getName).toList();
    assertThat(names.subList(names.size() - 2, names.size()))
        .containsExactly("envoy.filters.http.local_ratelimit", WellKnown.ROUTER);
    assertThat(hcm.getHttpFilters(names.size() - 2).getTypedConfig().getTypeUrl())
        .isEqualTo("type.googleapis.com/udpa.type.v1.TypedStruct");
    RouteConfiguration rc = unpack(g.generate(TypeUrls.ROUTE, router, List.of("http.80")).get("http.80"),
        RouteConfiguration.class);
    assertThat(rc.getVirtualHosts(0).getRequestHeadersToAdd(0).getHeader().getKey()).isEqualTo("x-via-gateway");
    assertThat(rc.getVirtualHosts(0).getRoutesList()).extracting(r -> r.getName()).startsWith("health");
    assertThat(ProtoRules.violations(Any.pack(rc))).isEmpty();
    assertThat(router.dropped()).noneSatisfy((k, v) -> assertThat(k).startsWith("EnvoyFilter"));
    // A sidecar's outbound listener on port 80 (none here) or any of its HCMs: untouched.
    ProxyView sidecar = mesh.sidecar("default", "10.1.2.1", Map.of("app", "productpage"));
    assertThat(outboundHcm(unpack(listeners(g, sidecar).get("0.0.0.0_9080"), Listener.class)).getHttpFiltersList())
        .extracting(HttpFilter::getName).doesNotContain("envoy.filters.http.local_ratelimit");
  }

  @Test
  void perRouteRateLimitOnTheInboundSideMergesIntoTheInlineRouteTable() {
    ProxyView view = productpage(LOCAL_RATE_LIMIT + """
        apiVersion: networking.istio.io/v1alpha3
        kind: EnvoyFilter
        metadata: {name: productpage-ratelimit-route, namespace: default}
        spec:
          workloadSelector:
            labels: {app: productpage}
          configPatches:
          - applyTo: HTTP_ROUTE
            match:
              context: SIDECAR_INBOUND
              routeConfiguration: {portNumber: 9081}
            patch:
              operation: MERGE
              value:
                typed_per_filter_config:
                  envoy.filters.http.local_ratelimit:
                    "@type": type.googleapis.com/envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit
                    stat_prefix: per_route
                    token_bucket: {max_tokens: 2, tokens_per_fill: 2, fill_interval: 10s}
        ---
        """);
    Listener in = unpack(listeners(new Generators(), view).get("virtualInbound"), Listener.class);
    RouteConfiguration rc = hcm(in, "0.0.0.0_9081").getRouteConfig();
    Any perRoute = rc.getVirtualHosts(0).getRoutes(0).getTypedPerFilterConfigMap()
        .get("envoy.filters.http.local_ratelimit");
    assertThat(perRoute).isNotNull();
    assertThat(unpack(perRoute, LocalRateLimit.class).getTokenBucket().getMaxTokens()).isEqualTo(2);
    assertThat(view.dropped()).noneSatisfy((k, v) -> assertThat(k).startsWith("EnvoyFilter"));
  }
}
