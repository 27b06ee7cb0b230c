package weft.xds;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.route.v3.Route;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.extensions.filters.http.fault.v3.HTTPFault;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import weft.registry.Locality;
import weft.xds.proxy.Proxy;
import weft.xds.view.ProxyView;

/** YAML in, proxyless xDS out: the generators against Istio's conventions. */
class GrpcGeneratorsTest {
  static final String HOST = "reviews.default.svc.cluster.local";
  static final String LISTENER = HOST + ":9080";
  static final String BASE = TestMesh.service("reviews", "default", 9080, "10.1.0.1", "10.1.0.2")
      + """
      apiVersion: v1
      kind: Pod
      metadata: {name: r1, namespace: default, labels: {version: v1}}
      status: {podIP: 10.1.0.1, phase: Running}
      ---
      apiVersion: v1
      kind: Pod
      metadata: {name: r2, namespace: default, labels: {version: v2}}
      status: {podIP: 10.1.0.2, phase: Running}
      ---
      """;

  TestMesh mesh;

  @AfterEach
  void stop() {
    if (mesh != null) mesh.close();
  }

  private SortedMap<String, Any> generate(String yaml, String type, String... names) throws Exception {
    mesh = new TestMesh(yaml);
    Proxy proxy = new Proxy("sidecar~10.0.0.9~c.default~default.svc.cluster.local", "sidecar", "10.0.0.9", "c",
        "default", "cluster1", "", Map.of(), "", Locality.UNKNOWN, true, "default.svc.cluster.local");
    return new Generators().generate(type, new ProxyView(mesh.registry.current(), proxy), List.of(names)).anys();
  }

  private static <T extends com.google.protobuf.Message> T unpack(Any any, Class<T> type) {
    try {
      return any.unpack(type);
    } catch (InvalidProtocolBufferException e) {
      throw new AssertionError(e);
    }
  }

  @Test
  void clientListenerIsAnApiListenerFetchingRoutesOfTheSameName() throws Exception {
    Listener l = unpack(generate(BASE, TypeUrls.LISTENER, LISTENER).get(LISTENER), Listener.class);
    HttpConnectionManager hcm = l.getApiListener().getApiListener().unpack(HttpConnectionManager.class);
    assertThat(hcm.getRds().getRouteConfigName()).isEqualTo(LISTENER);
    assertThat(hcm.getRds().getConfigSource().hasAds()).isTrue();
    assertThat(hcm.getHttpFiltersList()).extracting(f -> f.getName())
        .containsExactly("envoy.filters.http.fault", "envoy.filters.http.router");
  }

  @Test
  void routeFeaturesGrpcJavaCannotActOnAreNeverSentAndTheirEffectIsReported() throws Exception {
    mesh = new TestMesh(BASE + """
        apiVersion: networking.istio.io/v1
        kind: VirtualService
        metadata: {name: reviews, namespace: default}
        spec:
          hosts: [reviews]
          http:
          - match: [{uri: {prefix: /old.Service/}}]
            redirect: {uri: /new.Service/, redirectCode: 308}
          - route: [{destination: {host: reviews, subset: v1}}]
            mirror: {host: reviews, subset: v2}
            headers: {request: {set: {x-weft: "1"}}}
            corsPolicy: {allowOrigins: [{exact: https://example.com}]}
        """);
    Proxy proxy = new Proxy("sidecar~10.0.0.9~c.default~default.svc.cluster.local", "sidecar", "10.0.0.9", "c",
        "default", "cluster1", "", Map.of(), "", Locality.UNKNOWN, true, "default.svc.cluster.local");
    ProxyView view = new ProxyView(mesh.registry.current(), proxy);
    RouteConfiguration rc = unpack(new Generators().generate(TypeUrls.ROUTE, view, List.of(LISTENER)).anys()
        .get(LISTENER), RouteConfiguration.class);
    List<Route> routes = rc.getVirtualHosts(0).getRoutesList();
    Route redirect = routes.get(0);
    assertThat(redirect.hasRedirect()).as("grpc-java NACKs a redirect action").isFalse();
    assertThat(redirect.getTypedPerFilterConfigOrThrow("envoy.filters.http.fault").unpack(HTTPFault.class)
        .getAbort().getHttpStatus()).isEqualTo(308);
    Route forward = routes.get(1);
    assertThat(forward.getRoute().getCluster()).isEqualTo("outbound|9080|v1|" + HOST);
    assertThat(forward.getRoute().getRequestMirrorPoliciesList()).isEmpty();
    assertThat(forward.getRequestHeadersToAddList()).isEmpty();
    assertThat(forward.getTypedPerFilterConfigMap()).doesNotContainKey("envoy.filters.http.cors");
    assertThat(view.dropped().get("VirtualService default/reviews http[0]")).contains("HTTP status 308 as an error");
    assertThat(view.dropped().get("VirtualService default/reviews http[1]"))
        .contains("proxyless gRPC clients ignore headers, corsPolicy, mirror");
  }

  @Test
  void serverListenerCarriesItsAddressAndANonForwardingRoute() throws Exception {
    String name = "xds.istio.io/grpc/lds/inbound/10.1.0.1:9080";
    Listener l = unpack(generate(BASE, TypeUrls.LISTENER, name).get(name), Listener.class);
    assertThat(l.getAddress().getSocketAddress().getAddress()).isEqualTo("10.1.0.1");
    assertThat(l.getAddress().getSocketAddress().getPortValue()).isEqualTo(9080);
    HttpConnectionManager hcm = l.getFilterChains(0).getFilters(0).getTypedConfig().unpack(HttpConnectionManager.class);
    assertThat(hcm.getRouteConfig().getVirtualHosts(0).getRoutes(0).hasNonForwardingAction()).isTrue();
  }

  @Test
  void virtualServiceBecomesMatchesSplitsRetriesTimeoutAndFault() throws Exception {
    String vs = """
        apiVersion: networking.istio.io/v1
        kind: VirtualService
        metadata: {name: reviews, namespace: default}
        spec:
          hosts: [reviews]
          http:
          - match:
            - headers: {end-user: {exact: jason}}
              uri: {prefix: /reviews.Reviews/}
            route:
            - destination: {host: reviews, subset: v2}
            fault:
              abort: {grpcStatus: UNAVAILABLE, percentage: {value: 50}}
          - route:
            - destination: {host: reviews, subset: v1}
              weight: 80
            - destination: {host: reviews, subset: v2}
              weight: 20
            timeout: 2s
            retries: {attempts: 3, retryOn: unavailable}
        """;
    RouteConfiguration rc = unpack(generate(BASE + vs, TypeUrls.ROUTE, LISTENER).get(LISTENER), RouteConfiguration.class);
    assertThat(rc.getVirtualHosts(0).getDomainsList()).contains(HOST, LISTENER);
    List<Route> routes = rc.getVirtualHosts(0).getRoutesList();
    assertThat(routes).hasSize(2);
    Route jason = routes.get(0);
    assertThat(jason.getMatch().getPrefix()).isEqualTo("/reviews.Reviews/");
    assertThat(jason.getMatch().getHeaders(0).getName()).isEqualTo("end-user");
    assertThat(jason.getMatch().getHeaders(0).getStringMatch().getExact()).isEqualTo("jason");
    assertThat(jason.getRoute().getCluster()).isEqualTo("outbound|9080|v2|" + HOST);
    HTTPFault fault = jason.getTypedPerFilterConfigOrThrow("envoy.filters.http.fault").unpack(HTTPFault.class);
    assertThat(fault.getAbort().getGrpcStatus()).isEqualTo(14);
    assertThat(fault.getAbort().getPercentage().getNumerator()).isEqualTo(500_000);
    Route split = routes.get(1);
    assertThat(split.getRoute().getWeightedClusters().getClustersList())
        .extracting(c -> c.getName() + "=" + c.getWeight().getValue())
        .containsExactly("outbound|9080|v1|" + HOST + "=80", "outbound|9080|v2|" + HOST + "=20");
    assertThat(split.getRoute().getMaxStreamDuration().getMaxStreamDuration().getSeconds()).isEqualTo(2);
    assertThat(split.getRoute().getRetryPolicy().getNumRetries().getValue()).isEqualTo(3);
    assertThat(split.getRoute().getRetryPolicy().getRetryOn()).isEqualTo("unavailable");
  }

  @Test
  void destinationRuleSetsPolicyAndSubsetsSelectEndpointsByLabel() throws Exception {
    String dr = """
        apiVersion: networking.istio.io/v1
        kind: DestinationRule
        metadata: {name: reviews, namespace: default}
        spec:
          host: reviews
          trafficPolicy:
            loadBalancer: {simple: LEAST_REQUEST}
            connectionPool: {http: {http2MaxRequests: 100}}
            outlierDetection: {consecutive5xxErrors: 5, interval: 10s, baseEjectionTime: 30s}
          subsets:
          - name: v1
            labels: {version: v1}
          - name: v2
            labels: {version: v2}
            trafficPolicy:
              loadBalancer: {simple: ROUND_ROBIN}
        """;
    String v1 = "outbound|9080|v1|" + HOST;
    String v2 = "outbound|9080|v2|" + HOST;
    SortedMap<String, Any> clusters = generate(BASE + dr, TypeUrls.CLUSTER, v1, v2, "outbound|9080|v3|" + HOST);
    assertThat(clusters).containsOnlyKeys(v1, v2);
    Cluster c1 = unpack(clusters.get(v1), Cluster.class);
    assertThat(c1.getLbPolicy()).isEqualTo(Cluster.LbPolicy.LEAST_REQUEST);
    assertThat(c1.getCircuitBreakers().getThresholds(0).getMaxRequests().getValue()).isEqualTo(100);
    assertThat(c1.getOutlierDetection().getConsecutive5Xx().getValue()).isEqualTo(5);
    assertThat(c1.getOutlierDetection().getBaseEjectionTime().getSeconds()).isEqualTo(30);
    assertThat(c1.getEdsClusterConfig().getServiceName()).isEqualTo(v1);
    assertThat(unpack(clusters.get(v2), Cluster.class).getLbPolicy()).isEqualTo(Cluster.LbPolicy.ROUND_ROBIN);

    ClusterLoadAssignment cla = unpack(new Generators().generate(TypeUrls.ENDPOINT,
        new ProxyView(mesh.registry.current(), new Proxy("sidecar~1~c.default~default.svc.cluster.local", "sidecar",
            "1", "c", "default", "cluster1", "", Map.of(), "", Locality.UNKNOWN, true, "")), List.of(v2)).get(v2),
        ClusterLoadAssignment.class);
    assertThat(cla.getEndpointsList()).flatExtracting(l -> l.getLbEndpointsList())
        .extracting(e -> e.getEndpoint().getAddress().getSocketAddress().getAddress()).containsExactly("10.1.0.2");
  }

  @Test
  void zeroWeightDestinationsAreLeftOutAndWeightsNeedNotSumToHundred() throws Exception {
    String vs = """
        apiVersion: networking.istio.io/v1
        kind: VirtualService
        metadata: {name: reviews, namespace: default}
        spec:
          hosts: [reviews.default.svc.cluster.local]
          http:
          - route:
            - destination: {host: reviews, subset: v1}
              weight: 3
            - destination: {host: reviews, subset: v2}
              weight: 0
            - destination: {host: ratings}
              weight: 1
        """;
    RouteConfiguration rc = unpack(generate(BASE + vs, TypeUrls.ROUTE, LISTENER).get(LISTENER), RouteConfiguration.class);
    assertThat(rc.getVirtualHosts(0).getRoutes(0).getRoute().getWeightedClusters().getClustersList())
        .extracting(c -> c.getName()).containsExactly("outbound|9080|v1|" + HOST,
            "outbound|9080||ratings.default.svc.cluster.local");
  }
}
