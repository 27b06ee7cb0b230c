package weft.xds.envoygen;

import static org.assertj.core.api.Assertions.assertThat;
import static weft.xds.envoygen.EnvoyMesh.unpack;

import com.google.protobuf.Any;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.route.v3.Route;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.config.route.v3.VirtualHost;
import io.envoyproxy.envoy.config.route.v3.WeightedCluster;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.envoyproxy.envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import weft.model.ConfigProblem;
import weft.model.gatewayapi.GatewayApiTranslation;
import weft.xds.view.ProxyView;

/**
 * Kubernetes Gateway API in, router and sidecar xDS out: conformance-style cases for listeners,
 * HTTPRoute match precedence, weights, filters, ReferenceGrant and mesh (GAMMA) routes, each
 * compared with what the API specifies and Istio generates.
 */
class GatewayApiTest {
  static final String ECHO = "echo.default.svc.cluster.local";

  /** Services echo, echo-v1, echo-v2 in default and store in team, each with one endpoint. */
  static final String SERVICES = service("echo", "default", "10.96.5.1", "10.1.5.1")
      + service("echo-v1", "default", "10.96.5.2", "10.1.5.2")
      + service("echo-v2", "default", "10.96.5.3", "10.1.5.3")
      + service("store", "team", "10.96.5.4", "10.1.5.4")
      + """
      apiVersion: v1
      kind: Namespace
      metadata: {name: team, labels: {shared-gateway: "yes"}}
      ---
      """;

  static String service(String name, String ns, String vip, String ip) {
    return """
        apiVersion: v1
        kind: Service
        metadata: {name: %1$s, namespace: %2$s}
        spec:
          clusterIP: %3$s
          ports: [{name: http, port: 8080}]
        ---
        apiVersion: discovery.k8s.io/v1
        kind: EndpointSlice
        metadata: {name: %1$s-1, namespace: %2$s, labels: {kubernetes.io/service-name: %1$s}}
        addressType: IPv4
        ports: [{name: http, port: 8080}]
        endpoints:
        - addresses: ["%4$s"]
        ---
        """.formatted(name, ns, vip, ip);
  }

  static final String GATEWAY = """
      apiVersion: gateway.networking.k8s.io/v1
      kind: Gateway
      metadata: {name: gw, namespace: default}
      spec:
        gatewayClassName: istio
        listeners:
        - name: http
          port: 80
          protocol: HTTP
          allowedRoutes: {namespaces: {from: Selector, selector: {matchLabels: {shared-gateway: "yes"}}}}
        - name: local
          hostname: "*.local.example"
          port: 8000
          protocol: HTTP
      ---
      """;

  EnvoyMesh mesh;

  @AfterEach
  void stop() {
    if (mesh != null) mesh.close();
  }

  ProxyView router(String yaml) {
    mesh = new EnvoyMesh(SERVICES + yaml);
    return mesh.router("default", "10.1.9.9", Map.of(GatewayApiTranslation.GATEWAY_NAME_LABEL, "gw"));
  }

  static String route(String ns, String name, String created, String parent, String spec) {
    return """
        apiVersion: gateway.networking.k8s.io/v1
        kind: HTTPRoute
        metadata: {name: %s, namespace: %s, creationTimestamp: "%s"}
        spec:
          parentRefs: [%s]
        %s
        ---
        """.formatted(name, ns, created, parent, spec.stripTrailing().indent(2).stripTrailing());
  }

  static final String TO_GW = "{name: gw, namespace: default, sectionName: local}";

  /** The routes of one virtual host, after checking the whole table against Envoy's proto rules. */
  private List<Route> routes(ProxyView view, String routeName, String domain) {
    Any generated = EnvoyRoutes.generate(view, routeName);
    assertThat(ProtoRules.violations(generated)).as(routeName).isEmpty();
    RouteConfiguration rc = unpack(generated, RouteConfiguration.class);
    for (VirtualHost vh : rc.getVirtualHostsList()) {
      if (vh.getDomainsList().contains(domain)) return vh.getRoutesList();
    }
    throw new AssertionError("no virtual host for " + domain + " in " + rc.getVirtualHostsList().stream()
        .map(VirtualHost::getName).toList() + "; dropped: " + view.dropped());
  }

  private List<String> problems() {
    return mesh.registry.current().problems().stream().map(ConfigProblem::describe).toList();
  }

  @Test
  void listenersBecomeRouterListenersOnlyForTheGatewaysOwnLabelledProxiesInItsNamespace() {
    ProxyView view = router(GATEWAY + route("default", "r", "2024-01-01T00:00:00Z", TO_GW, """
        hostnames: [a.local.example]
        rules:
        - backendRefs: [{name: echo, port: 8080}]
        """));
    SortedMap<String, Any> listeners = EnvoyListeners.all(view);
    assertThat(listeners).containsOnlyKeys("0.0.0.0_80", "0.0.0.0_8000");
    HttpConnectionManager hcm = unpack(unpack(listeners.get("0.0.0.0_8000"), Listener.class).getFilterChains(0)
        .getFilters(0).getTypedConfig(), HttpConnectionManager.class);
    assertThat(hcm.getRds().getRouteConfigName()).isEqualTo("http.8000");
    assertThat(routes(view, "http.8000", "a.local.example").get(0).getRoute().getCluster())
        .isEqualTo("outbound|8080||" + ECHO);

    ProxyView elsewhere = mesh.router("team", "10.1.9.8", Map.of(GatewayApiTranslation.GATEWAY_NAME_LABEL, "gw"));
    assertThat(EnvoyListeners.all(elsewhere)).as("a proxy of another namespace with the same label").isEmpty();
    ProxyView unlabelled = mesh.router("default", "10.1.9.7", Map.of("istio", "ingressgateway"));
    assertThat(EnvoyListeners.all(unlabelled)).isEmpty();
  }

  @Test
  void matchesAreOrderedByTheGatewayApiPrecedenceAcrossRoutesAndTiesGoToTheOldestRoute() {
    String backend = "backendRefs: [{name: echo, port: 8080}]";
    ProxyView view = router(GATEWAY
        + route("default", "newer", "2024-02-01T00:00:00Z", TO_GW, """
            hostnames: [a.local.example]
            rules:
            - matches: [{path: {type: PathPrefix, value: /api}, headers: [{name: x-tie, value: "1"}]}]
              backendRefs: [{name: echo-v2, port: 8080}]
            - matches: [{path: {type: PathPrefix, value: /a}}]
              %s
            """.formatted(backend))
        + route("default", "older", "2024-01-01T00:00:00Z", TO_GW, """
            hostnames: [a.local.example]
            rules:
            - matches:
              - {path: {type: PathPrefix, value: /api}}
              - {path: {type: PathPrefix, value: /api}, method: GET}
              - {path: {type: PathPrefix, value: /api}, headers: [{name: x-a, value: "1"}, {name: x-b, value: "2"}]}
              - {path: {type: PathPrefix, value: /api}, headers: [{name: x-tie, value: "1"}]}
              - {path: {type: PathPrefix, value: /api}, queryParams: [{name: q, value: "1"}]}
              - {path: {type: PathPrefix, value: /api/v1/}}
              - {path: {type: Exact, value: /api}}
              - {path: {type: RegularExpression, value: "/api/.*/x"}}
              %s
            """.formatted(backend)));
    List<String> order = new ArrayList<>();
    for (Route r : routes(view, "http.8000", "a.local.example")) order.add(describe(r));
    assertThat(order).containsExactly(
        "path /api",                        // Exact beats any prefix
        "path /api/v1", "prefix /api/v1/",  // the longest prefix (its own path, then below it)
        "path /api GET", "prefix /api/ GET", // a method match
        "path /api h2", "prefix /api/ h2",  // two header matches beat one
        "path /api h1 echo", "prefix /api/ h1 echo",          // one header, the older route first ...
        "path /api h1 echo-v2", "prefix /api/ h1 echo-v2",    // ... then the newer one
        "path /api q1", "prefix /api/ q1",  // a query parameter match
        "path /api", "prefix /api/",        // the bare prefix
        "path /a", "prefix /a/",            // a shorter prefix
        "regex /api/.*/x");                 // regular expressions last (Istio's rank: behind a catch-all
                                            // prefix they are unreachable, in Istio as here)
  }

  /** A route in a few words: its path match, method, headers and query counts, and a backend where ambiguous. */
  private static String describe(Route r) {
    var m = r.getMatch();
    StringBuilder b = new StringBuilder();
    if (m.hasPath()) b.append("path ").append(m.getPath());
    if (m.hasPrefix()) b.append("prefix ").append(m.getPrefix());
    if (m.hasPathSeparatedPrefix()) b.append("separated ").append(m.getPathSeparatedPrefix());
    if (m.hasSafeRegex()) b.append("regex ").append(m.getSafeRegex().getRegex());
    long headers = m.getHeadersList().stream().filter(h -> !h.getName().equals(":method")).count();
    m.getHeadersList().stream().filter(h -> h.getName().equals(":method"))
        .forEach(h -> b.append(" ").append(h.getStringMatch().getExact()));
    if (headers > 0) b.append(" h").append(headers);
    if (m.getQueryParametersCount() > 0) b.append(" q").append(m.getQueryParametersCount());
    if (headers == 1 && m.getHeaders(0).getName().equals("x-tie")) {
      String cluster = r.getRoute().getCluster();
      b.append(cluster.contains("echo-v2") ? " echo-v2" : " echo");
    }
    return b.toString();
  }

  @Test
  void weightsSplitTrafficAZeroWeightTakesNoneAndNoUsableBackendAnswers500() {
    ProxyView view = router(GATEWAY + route("default", "r", "2024-01-01T00:00:00Z", TO_GW, """
        hostnames: [a.local.example]
        rules:
        - matches: [{path: {type: Exact, value: /split}}]
          backendRefs:
          - {name: echo-v1, port: 8080, weight: 90}
          - {name: echo-v2, port: 8080, weight: 10}
          - {name: echo, port: 8080, weight: 0}
        - matches: [{path: {type: Exact, value: /none}}]
          backendRefs: [{name: echo, port: 8080, weight: 0}]
        """));
    List<Route> routes = routes(view, "http.8000", "a.local.example");
    Route split = routes.stream().filter(r -> r.getMatch().getPath().equals("/split")).findFirst().orElseThrow();
    assertThat(split.getRoute().getWeightedClusters().getClustersList())
        .extracting(WeightedCluster.ClusterWeight::getName, c -> c.getWeight().getValue())
        .containsExactly(org.assertj.core.groups.Tuple.tuple("outbound|8080||echo-v1.default.svc.cluster.local", 90),
            org.assertj.core.groups.Tuple.tuple("outbound|8080||echo-v2.default.svc.cluster.local", 10));
    Route none = routes.stream().filter(r -> r.getMatch().getPath().equals("/none")).findFirst().orElseThrow();
    assertThat(none.getDirectResponse().getStatus()).isEqualTo(500);
  }

  @Test
  void filtersChangeHeadersRedirectRewriteAndMirror() {
    ProxyView view = router(GATEWAY + route("default", "r", "2024-01-01T00:00:00Z", TO_GW, """
        hostnames: [a.local.example]
        rules:
        - matches: [{path: {type: PathPrefix, value: /headers}}]
          filters:
          - type: RequestHeaderModifier
            requestHeaderModifier:
              set: [{name: x-set, value: one}]
              add: [{name: x-add, value: two}]
              remove: [x-gone]
          - type: ResponseHeaderModifier
            responseHeaderModifier: {set: [{name: x-resp, value: three}]}
          - type: RequestMirror
            requestMirror: {backendRef: {name: echo-v2, port: 8080}, percent: 25}
          backendRefs: [{name: echo, port: 8080}]
        - matches: [{path: {type: Exact, value: /old}}]
          filters:
          - type: RequestRedirect
            requestRedirect: {scheme: https, hostname: new.example, path: {type: ReplaceFullPath, replaceFullPath: /new}, statusCode: 301}
        - matches: [{path: {type: PathPrefix, value: /v1}}]
          filters:
          - type: URLRewrite
            urlRewrite: {hostname: internal.example, path: {type: ReplacePrefixMatch, replacePrefixMatch: /v2}}
          backendRefs: [{name: echo, port: 8080}]
        """));
    List<Route> routes = routes(view, "http.8000", "a.local.example");
    Route headers = routes.stream().filter(r -> r.getMatch().getPrefix().equals("/headers/")).findFirst().orElseThrow();
    assertThat(headers.getRequestHeadersToAddList()).anySatisfy(h -> {
      assertThat(h.getHeader().getKey()).isEqualTo("x-set");
      assertThat(h.getHeader().getValue()).isEqualTo("one");
    }).anySatisfy(h -> assertThat(h.getHeader().getKey()).isEqualTo("x-add"));
    assertThat(headers.getRequestHeadersToRemoveList()).contains("x-gone");
    assertThat(headers.getResponseHeadersToAddList()).anySatisfy(h -> assertThat(h.getHeader().getKey()).isEqualTo("x-resp"));
    assertThat(headers.getRoute().getRequestMirrorPoliciesList()).singleElement().satisfies(m -> {
      assertThat(m.getCluster()).isEqualTo("outbound|8080||echo-v2.default.svc.cluster.local");
      assertThat(m.getRuntimeFraction().getDefaultValue().getNumerator()).isEqualTo(250000);
    });

    Route redirect = routes.stream().filter(r -> r.getMatch().getPath().equals("/old")).findFirst().orElseThrow();
    assertThat(redirect.getRedirect().getSchemeRedirect()).isEqualTo("https");
    assertThat(redirect.getRedirect().getHostRedirect()).isEqualTo("new.example");
    assertThat(redirect.getRedirect().getPathRedirect()).isEqualTo("/new");
    assertThat(redirect.getRedirect().getResponseCode().name()).isEqualTo("MOVED_PERMANENTLY");

    Route own = routes.stream().filter(r -> r.getMatch().getPath().equals("/v1")).findFirst().orElseThrow();
    Route below = routes.stream().filter(r -> r.getMatch().getPrefix().equals("/v1/")).findFirst().orElseThrow();
    assertThat(own.getRoute().getPrefixRewrite()).isEqualTo("/v2");
    assertThat(below.getRoute().getPrefixRewrite()).as("/v1/x becomes /v2/x").isEqualTo("/v2/");
    assertThat(below.getRoute().getHostRewriteLiteral()).isEqualTo("internal.example");
  }

  @Test
  void aBackendInAnotherNamespaceNeedsAReferenceGrantThere() {
    String routeYaml = route("default", "r", "2024-01-01T00:00:00Z", TO_GW, """
        hostnames: [a.local.example]
        rules:
        - backendRefs: [{name: store, namespace: team, port: 8080}]
        """);
    ProxyView denied = router(GATEWAY + routeYaml);
    assertThat(routes(denied, "http.8000", "a.local.example").get(0).getDirectResponse().getStatus()).isEqualTo(500);
    assertThat(problems()).anyMatch(p -> p.contains("HTTPRoute default/r") && p.contains("RefNotPermitted"));
    mesh.close();

    String grant = """
        apiVersion: gateway.networking.k8s.io/v1beta1
        kind: ReferenceGrant
        metadata: {name: from-default, namespace: team}
        spec:
          from: [{group: gateway.networking.k8s.io, kind: HTTPRoute, namespace: default}]
          to: [{group: "", kind: Service, name: store}]
        ---
        """;
    ProxyView allowed = router(GATEWAY + routeYaml + grant);
    assertThat(routes(allowed, "http.8000", "a.local.example").get(0).getRoute().getCluster())
        .isEqualTo("outbound|8080||store.team.svc.cluster.local");
    assertThat(problems()).noneMatch(p -> p.contains("RefNotPermitted"));
    mesh.close();

    // A grant for another kind does not allow HTTPRoutes.
    ProxyView otherKind = router(GATEWAY + routeYaml + grant.replace("kind: HTTPRoute", "kind: GRPCRoute"));
    assertThat(routes(otherKind, "http.8000", "a.local.example").get(0).hasDirectResponse()).isTrue();
  }

  @Test
  void routesThatCannotAttachAreReportedWithTheReason() {
    router(GATEWAY
        + route("default", "wrong-host", "2024-01-01T00:00:00Z", TO_GW, """
            hostnames: [www.elsewhere.example]
            rules: [{backendRefs: [{name: echo, port: 8080}]}]
            """)
        + route("other", "not-allowed", "2024-01-01T00:00:00Z", TO_GW, """
            rules: [{backendRefs: [{name: echo, namespace: default, port: 8080}]}]
            """)
        + route("team", "selected", "2024-01-01T00:00:00Z", "{name: gw, namespace: default, sectionName: http}", """
            hostnames: [shop.example]
            rules: [{backendRefs: [{name: store, port: 8080}]}]
            """)
        + route("default", "no-such-listener", "2024-01-01T00:00:00Z", "{name: gw, sectionName: nope}", """
            rules: [{backendRefs: [{name: echo, port: 8080}]}]
            """));
    assertThat(problems()).anyMatch(p -> p.contains("default/wrong-host") && p.contains("NoMatchingListenerHostname"))
        .anyMatch(p -> p.contains("other/not-allowed") && p.contains("allowedRoutes Same"))
        .anyMatch(p -> p.contains("default/no-such-listener") && p.contains("NoMatchingParent"))
        .noneMatch(p -> p.contains("team/selected"));
    ProxyView view = mesh.router("default", "10.1.9.9", Map.of(GatewayApiTranslation.GATEWAY_NAME_LABEL, "gw"));
    assertThat(routes(view, "http.80", "shop.example").get(0).getRoute().getCluster())
        .as("a namespace the listener's selector admits").isEqualTo("outbound|8080||store.team.svc.cluster.local");
  }

  @Test
  void httpsListenerTerminatesWithItsSecretAndASecretElsewhereNeedsAGrant() {
    String gateway = """
        apiVersion: gateway.networking.k8s.io/v1
        kind: Gateway
        metadata: {name: gw, namespace: default}
        spec:
          gatewayClassName: istio
          listeners:
          - name: https
            hostname: secure.example
            port: 443
            protocol: HTTPS
            tls: {mode: Terminate, certificateRefs: [{name: secure-cert}]}
          - name: https-shared
            hostname: shared.example
            port: 443
            protocol: HTTPS
            tls: {mode: Terminate, certificateRefs: [{name: shared-cert, namespace: team}]}
          - name: tls
            port: 8443
            protocol: TLS
            tls: {mode: Passthrough}
          - name: tcp
            port: 9000
            protocol: TCP
        ---
        apiVersion: gateway.networking.k8s.io/v1alpha2
        kind: TLSRoute
        metadata: {name: pass, namespace: default}
        spec:
          parentRefs: [{name: gw, sectionName: tls}]
          hostnames: [db.example]
          rules: [{backendRefs: [{name: echo-v1, port: 8080}]}]
        ---
        apiVersion: gateway.networking.k8s.io/v1alpha2
        kind: TCPRoute
        metadata: {name: raw, namespace: default}
        spec:
          parentRefs: [{name: gw, sectionName: tcp}]
          rules: [{backendRefs: [{name: echo-v2, port: 8080}]}]
        ---
        """;
    ProxyView view = router(gateway + route("default", "r", "2024-01-01T00:00:00Z", "{name: gw, sectionName: https}",
        "rules: [{backendRefs: [{name: echo, port: 8080}]}]"));
    SortedMap<String, Any> listeners = EnvoyListeners.all(view);
    assertThat(listeners).containsOnlyKeys("0.0.0.0_443", "0.0.0.0_8443", "0.0.0.0_9000");
    Listener https = unpack(listeners.get("0.0.0.0_443"), Listener.class);
    assertThat(https.getFilterChainsList()).as("the listener whose Secret is not granted is not programmed")
        .hasSize(1);
    assertThat(https.getFilterChains(0).getFilterChainMatch().getServerNamesList()).containsExactly("secure.example");
    DownstreamTlsContext tls = unpack(https.getFilterChains(0).getTransportSocket().getTypedConfig(),
        DownstreamTlsContext.class);
    assertThat(tls.getCommonTlsContext().getTlsCertificateSdsSecretConfigs(0).getName())
        .isEqualTo("kubernetes-gateway://default/secure-cert");
    assertThat(problems()).anyMatch(p -> p.contains("KubernetesGateway default/gw") && p.contains("https-shared")
        && p.contains("RefNotPermitted"));

    Listener passthrough = unpack(listeners.get("0.0.0.0_8443"), Listener.class);
    assertThat(passthrough.getFilterChainsList()).anySatisfy(fc -> {
      assertThat(fc.getFilterChainMatch().getServerNamesList()).containsExactly("db.example");
      TcpProxy tcp = unpack(fc.getFilters(fc.getFiltersCount() - 1).getTypedConfig(), TcpProxy.class);
      assertThat(tcp.getCluster()).isEqualTo("outbound|8080||echo-v1.default.svc.cluster.local");
    });
    Listener raw = unpack(listeners.get("0.0.0.0_9000"), Listener.class);
    TcpProxy tcp = unpack(raw.getFilterChains(0).getFilters(raw.getFilterChains(0).getFiltersCount() - 1)
        .getTypedConfig(), TcpProxy.class);
    assertThat(tcp.getCluster()).isEqualTo("outbound|8080||echo-v2.default.svc.cluster.local");
    for (Map.Entry<String, Any> e : listeners.entrySet()) {
      assertThat(ProtoRules.violations(e.getValue())).as(e.getKey()).isEmpty();
    }
  }

  @Test
  void aServiceParentRoutesMeshTrafficForThatServiceOnSidecars() {
    mesh = new EnvoyMesh(SERVICES + route("default", "echo-split", "2024-01-01T00:00:00Z",
        "{group: \"\", kind: Service, name: echo, port: 8080}", """
            rules:
            - matches: [{headers: [{name: end-user, value: jason}]}]
              backendRefs: [{name: echo-v2, port: 8080}]
            - backendRefs:
              - {name: echo-v1, port: 8080, weight: 80}
              - {name: echo-v2, port: 8080, weight: 20}
            """));
    ProxyView sidecar = mesh.sidecar("default", "10.1.7.7", Map.of("app", "client"));
    RouteConfiguration rc = unpack(EnvoyRoutes.generate(sidecar, "8080"), RouteConfiguration.class);
    VirtualHost vh = rc.getVirtualHostsList().stream().filter(v -> v.getDomainsList().contains(ECHO)).findFirst()
        .orElseThrow();
    assertThat(vh.getRoutes(0).getMatch().getHeaders(0).getName()).isEqualTo("end-user");
    assertThat(vh.getRoutes(0).getRoute().getCluster()).isEqualTo("outbound|8080||echo-v2.default.svc.cluster.local");
    assertThat(vh.getRoutes(1).getRoute().getWeightedClusters().getClustersList())
        .extracting(c -> c.getWeight().getValue()).containsExactly(80, 20);
    assertThat(ProtoRules.violations(Any.pack(rc))).isEmpty();
  }
}
