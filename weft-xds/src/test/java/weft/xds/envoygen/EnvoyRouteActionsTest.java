package weft.xds.envoygen;

import static org.assertj.core.api.Assertions.assertThat;
import static weft.xds.envoygen.EnvoyMesh.unpack;

import com.google.protobuf.Any;
import io.envoyproxy.envoy.config.core.v3.HeaderValueOption;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.route.v3.RedirectAction;
import io.envoyproxy.envoy.config.route.v3.Route;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.config.route.v3.VirtualHost;
import io.envoyproxy.envoy.extensions.filters.http.cors.v3.CorsPolicy;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter;
import io.envoyproxy.envoy.type.v3.FractionalPercent;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import weft.xds.view.ProxyView;

/**
 * YAML in, Envoy routes out, in the shape of Istio's traffic-management tasks (request routing,
 * mirroring, CORS, redirects): each feature as Istio's route package translates it, and every
 * resource within Envoy's validation rules.
 */
class EnvoyRouteActionsTest {
  static final String MESH = EnvoyGeneratorsTest.MESH;
  static final String REVIEWS = EnvoyGeneratorsTest.REVIEWS;

  EnvoyMesh mesh;

  @AfterEach
  void stop() {
    if (mesh != null) mesh.close();
  }

  private ProxyView sidecar(String vs) {
    mesh = new EnvoyMesh(MESH + vs);
    return mesh.sidecar("default", "10.1.2.1", Map.of("app", "productpage"));
  }

  private static List<Route> reviewsRoutes(ProxyView view) {
    Any any = EnvoyRoutes.generate(view, "9080");
    assertThat(ProtoRules.violations(any)).isEmpty();
    RouteConfiguration rc = unpack(any, RouteConfiguration.class);
    return rc.getVirtualHostsList().stream().filter(v -> v.getName().equals(REVIEWS + ":9080")).findFirst()
        .orElseThrow().getRoutesList();
  }

  @Test
  void redirectAndDirectResponseRoutesAnswerWithoutAnUpstream() {
    List<Route> routes = reviewsRoutes(sidecar("""
        apiVersion: networking.istio.io/v1
        kind: VirtualService
        metadata: {name: reviews, namespace: default}
        spec:
          hosts: [reviews]
          http:
          - match: [{uri: {exact: /v1/getProductRatings}}]
            redirect: {uri: /v1/bookRatings, authority: newratings.default.svc.cluster.local}
          - match: [{uri: {prefix: /secure}}]
            redirect: {scheme: https, derivePort: FROM_REQUEST_PORT, redirectCode: 307}
          - match: [{uri: {exact: /healthz}}]
            directResponse: {status: 503, body: {string: "unavailable"}}
          - route: [{destination: {host: reviews}}]
        """));
    RedirectAction first = routes.get(0).getRedirect();
    assertThat(first.getPathRedirect()).isEqualTo("/v1/bookRatings");
    assertThat(first.getHostRedirect()).isEqualTo("newratings.default.svc.cluster.local");
    assertThat(first.getResponseCode()).isEqualTo(RedirectAction.RedirectResponseCode.MOVED_PERMANENTLY);
    RedirectAction second = routes.get(1).getRedirect();
    assertThat(second.getSchemeRedirect()).isEqualTo("https");
    assertThat(second.getPortRedirect()).as("FROM_REQUEST_PORT keeps the listener's port").isEqualTo(9080);
    assertThat(second.getResponseCode()).isEqualTo(RedirectAction.RedirectResponseCode.TEMPORARY_REDIRECT);
    assertThat(routes.get(2).getDirectResponse().getStatus()).isEqualTo(503);
    assertThat(routes.get(2).getDirectResponse().getBody().getInlineBytes().toStringUtf8()).isEqualTo("unavailable");
    assertThat(routes.get(3).getRoute().getCluster()).isEqualTo("outbound|9080||" + REVIEWS);
  }

  @Test
  void headerOperationsSetAddAndRemoveAndAnAuthoritySetBecomesAHostRewrite() {
    List<Route> routes = reviewsRoutes(sidecar("""
        apiVersion: networking.istio.io/v1
        kind: VirtualService
        metadata: {name: reviews, namespace: default}
        spec:
          hosts: [reviews]
          http:
          - match: [{headers: {end-user: {exact: jason}}}]
            headers:
              request:
                set: {x-user: jason, host: reviews.internal}
                add: {x-trace: "1"}
                remove: [cookie]
              response:
                set: {cache-control: no-store}
                remove: [server]
            route:
            - destination: {host: reviews, subset: v1}
              headers: {response: {add: {x-subset: v1}}}
          - route:
            - destination: {host: reviews, subset: v1}
              weight: 80
              headers: {request: {set: {x-canary: "false"}}}
            - destination: {host: reviews, subset: v2}
              weight: 20
              headers: {request: {set: {x-canary: "true"}}}
        """));
    Route user = routes.get(0);
    assertThat(user.getRequestHeadersToAddList()).extracting(o -> o.getHeader().getKey() + "=" + o.getHeader()
        .getValue() + ":" + o.getAppendAction()).containsExactly(
        "x-user=jason:OVERWRITE_IF_EXISTS_OR_ADD", "x-trace=1:APPEND_IF_EXISTS_OR_ADD");
    assertThat(user.getRequestHeadersToRemoveList()).containsExactly("cookie");
    assertThat(user.getRoute().getHostRewriteLiteral()).isEqualTo("reviews.internal");
    assertThat(user.getResponseHeadersToAddList()).extracting(o -> o.getHeader().getKey())
        .containsExactly("cache-control", "x-subset");
    assertThat(user.getResponseHeadersToRemoveList()).containsExactly("server");
    var weighted = routes.get(1).getRoute().getWeightedClusters().getClustersList();
    assertThat(weighted).extracting(c -> c.getRequestHeadersToAdd(0).getHeader().getValue())
        .containsExactly("false", "true");
    assertThat(weighted.get(0).getRequestHeadersToAdd(0).getAppendAction())
        .isEqualTo(HeaderValueOption.HeaderAppendAction.OVERWRITE_IF_EXISTS_OR_ADD);
  }

  @Test
  void mirrorsSendTheirShareToTheMirrorClusterAndTheListenerHasTheCorsFilterForCorsPolicies() {
    ProxyView view = sidecar("""
        apiVersion: networking.istio.io/v1
        kind: VirtualService
        metadata: {name: reviews, namespace: default}
        spec:
          hosts: [reviews]
          http:
          - match: [{uri: {prefix: /mirrored}}]
            route: [{destination: {host: reviews, subset: v1}, weight: 100}]
            mirror: {host: reviews, subset: v2}
            mirrorPercentage: {value: 12.5}
          - match: [{uri: {prefix: /many}}]
            route: [{destination: {host: reviews, subset: v1}}]
            mirrors:
            - destination: {host: reviews, subset: v2}
            - destination: {host: reviews, subset: v3}
              percentage: {value: 0}
          - route: [{destination: {host: reviews}}]
            corsPolicy:
              allowOrigins: [{exact: https://example.com}, {regex: "https://.*\\\\.example\\\\.org"}]
              allowMethods: [POST, GET]
              allowHeaders: [x-custom]
              exposeHeaders: [x-exposed]
              maxAge: 24h
              allowCredentials: false
              unmatchedPreflights: IGNORE
        """);
    List<Route> routes = reviewsRoutes(view);
    var mirror = routes.get(0).getRoute().getRequestMirrorPolicies(0);
    assertThat(mirror.getCluster()).isEqualTo("outbound|9080|v2|" + REVIEWS);
    assertThat(mirror.getRuntimeFraction().getDefaultValue().getNumerator()).isEqualTo(125_000);
    assertThat(mirror.getRuntimeFraction().getDefaultValue().getDenominator())
        .isEqualTo(FractionalPercent.DenominatorType.MILLION);
    assertThat(routes.get(1).getRoute().getRequestMirrorPoliciesList()).as("a 0 % mirror is left out")
        .extracting(m -> m.getCluster()).containsExactly("outbound|9080|v2|" + REVIEWS);
    assertThat(routes.get(1).getRoute().getRequestMirrorPolicies(0).getRuntimeFraction().getDefaultValue()
        .getNumerator()).as("100 %% when unset").isEqualTo(1_000_000);

    CorsPolicy cors = unpack(routes.get(2).getTypedPerFilterConfigOrThrow(WellKnown.CORS), CorsPolicy.class);
    assertThat(cors.getAllowOriginStringMatchList()).hasSize(2);
    assertThat(cors.getAllowOriginStringMatch(0).getExact()).isEqualTo("https://example.com");
    assertThat(cors.getAllowOriginStringMatch(1).getSafeRegex().getRegex()).isEqualTo("https://.*\\.example\\.org");
    assertThat(cors.getAllowMethods()).isEqualTo("POST,GET");
    assertThat(cors.getAllowHeaders()).isEqualTo("x-custom");
    assertThat(cors.getExposeHeaders()).isEqualTo("x-exposed");
    assertThat(cors.getMaxAge()).isEqualTo("86400");
    assertThat(cors.getAllowCredentials().getValue()).isFalse();
    assertThat(cors.getForwardNotMatchingPreflights().getValue()).isFalse();

    Any listener = EnvoyListeners.all(view).get("0.0.0.0_9080");
    assertThat(ProtoRules.violations(listener)).isEmpty();
    HttpConnectionManager hcm = unpack(unpack(listener, Listener.class).getFilterChains(0).getFilters(0)
        .getTypedConfig(), HttpConnectionManager.class);
    assertThat(hcm.getHttpFiltersList()).extracting(HttpFilter::getName)
        .containsSubsequence(WellKnown.CORS, WellKnown.FAULT, WellKnown.ROUTER);
  }

  static final String DELEGATES = """
      apiVersion: networking.istio.io/v1
      kind: VirtualService
      metadata: {name: bookinfo, namespace: default}
      spec:
        hosts: ["*"]
        gateways: [bookinfo-gateway]
        http:
        - match: [{uri: {prefix: /reviews}}]
          delegate: {name: reviews-routes, namespace: reviews-team}
        - match: [{uri: {prefix: /gone}}]
          delegate: {name: not-there}
      ---
      apiVersion: networking.istio.io/v1
      kind: VirtualService
      metadata: {name: reviews-routes, namespace: reviews-team}
      spec:
        http:
        - match: [{uri: {prefix: /reviews/v2}}]
          route: [{destination: {host: reviews.default.svc.cluster.local, subset: v2}}]
        - route: [{destination: {host: reviews.default.svc.cluster.local, subset: v1}}]
      ---
      """;

  @Test
  void aGatewaysRootVirtualServiceRoutesThroughItsDelegateAndAMissingDelegateIsAConfigWarning() {
    mesh = new EnvoyMesh(MESH + DELEGATES + EnvoyGatewayTest.gateway("default", "bookinfo-gateway", "ingressgateway",
        EnvoyGatewayTest.HTTP_80));
    ProxyView view = mesh.router("istio-system", "10.1.9.1", EnvoyGatewayTest.INGRESS);
    Any any = EnvoyRoutes.generate(view, "http.80");
    assertThat(ProtoRules.violations(any)).isEmpty();
    VirtualHost vh = unpack(any, RouteConfiguration.class).getVirtualHosts(0);
    assertThat(vh.getRoutesList()).extracting(r -> r.getMatch().getPrefix() + " -> " + r.getRoute().getCluster())
        .containsExactly("/reviews/v2 -> outbound|9080|v2|" + REVIEWS, "/reviews -> outbound|9080|v1|" + REVIEWS);
    assertThat(mesh.registry.current().problems()).anySatisfy(p -> {
      assertThat(p.resource().toString()).isEqualTo("VirtualService default/bookinfo");
      assertThat(p.field()).isEqualTo("spec.http[1].delegate");
      assertThat(p.message()).contains("default/not-there does not exist");
    });
  }
}
