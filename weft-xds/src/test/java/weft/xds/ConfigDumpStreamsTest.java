package weft.xds;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryResponse;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import weft.xds.dump.ConfigDumps;
import weft.xds.dump.SentResources;

/** What the ADS server says each stream last sent, for both protocol variants, as the config dump shows it. */
class ConfigDumpStreamsTest {
  static final String REVIEWS = "outbound|9080||reviews.default.svc.cluster.local";
  TestMesh mesh;

  @BeforeEach
  void start() throws Exception {
    mesh = new TestMesh(TestMesh.service("reviews", "default", 9080, "10.1.0.1", "10.1.0.2"));
  }

  @AfterEach
  void stop() {
    mesh.close();
  }

  @Test
  void aSotwStreamsDumpHoldsWhatItWasSentWithTheVersionOfTheResponse() throws Exception {
    try (AdsTestClient c = new AdsTestClient(mesh.port(), AdsTestClient.proxyless("frontend-1", "default"))) {
      c.request(TypeUrls.ENDPOINT, List.of(REVIEWS));
      DiscoveryResponse eds = c.next();
      String id = "sidecar~10.0.0.9~frontend-1.default~default.svc.cluster.local";
      assertThat(mesh.ads.proxyIds()).containsExactly(id);
      List<SentResources> sent = mesh.ads.configOf(id).orElseThrow();
      JsonNode endpoints = section(ConfigDumps.json(sent, ConfigDumps.ALL_TYPES), "EndpointsConfigDump")
          .path("dynamic_endpoint_configs");
      assertThat(endpoints).hasSize(1);
      assertThat(endpoints.get(0).path("version_info").asText()).isEqualTo(eds.getVersionInfo());
      assertThat(endpoints.get(0).path("endpoint_config").path("cluster_name").asText()).isEqualTo(REVIEWS);
      assertThat(endpoints.get(0).toString()).contains("10.1.0.1").contains("10.1.0.2");
      assertThat(mesh.ads.configOf("sidecar~10.0.0.9~nobody.default~default.svc.cluster.local")).isEmpty();
    }
  }

  @Test
  void aDeltaStreamsDumpGivesEachResourceTheVersionTheStreamSentIt() throws Exception {
    try (DeltaTestClient c = new DeltaTestClient(mesh.port(), AdsTestClient.sidecar("web-1", "default", "10.1.9.9"))) {
      c.subscribe(TypeUrls.CLUSTER, List.of(), Map.of());
      DeltaDiscoveryResponse first = c.next();
      String id = "sidecar~10.1.9.9~web-1.default~default.svc.cluster.local";
      Map<String, String> versions = DeltaAdsTest.versions(first);
      assertThat(versions).containsKey(REVIEWS);
      JsonNode clusters = section(ConfigDumps.json(mesh.ads.configOf(id).orElseThrow(),
          List.of(TypeUrls.CLUSTER)), "ClustersConfigDump").path("dynamic_active_clusters");
      assertThat(clusters).hasSize(versions.size());
      for (JsonNode c1 : clusters) {
        assertThat(c1.path("version_info").asText()).isEqualTo(versions.get(c1.path("cluster").path("name").asText()));
      }
    }
  }

  @Test
  void everyTypeAnEnvoySidecarIsSentIsDecodedInItsDumpNoneLeftOut() throws Exception {
    mesh.apply("""
        apiVersion: v1
        kind: Service
        metadata: {name: reviews, namespace: default}
        spec:
          clusterIP: 10.96.0.10
          ports: [{name: http, port: 9080}]
        ---
        apiVersion: discovery.k8s.io/v1
        kind: EndpointSlice
        metadata: {name: reviews-1, namespace: default, labels: {kubernetes.io/service-name: reviews}}
        addressType: IPv4
        ports: [{name: http, port: 9080}]
        endpoints:
        - addresses: ["10.1.0.1"]
        - addresses: ["10.1.0.2"]
        ---
        apiVersion: v1
        kind: Pod
        metadata: {name: r1, namespace: default, labels: {app: reviews, version: v1}}
        status: {podIP: 10.1.0.1, phase: Running}
        ---
        apiVersion: v1
        kind: Pod
        metadata: {name: r2, namespace: default, labels: {app: reviews, version: v2}}
        status: {podIP: 10.1.0.2, phase: Running}
        ---
        apiVersion: security.istio.io/v1
        kind: PeerAuthentication
        metadata: {name: default, namespace: istio-system}
        spec: {mtls: {mode: STRICT}}
        ---
        apiVersion: security.istio.io/v1
        kind: AuthorizationPolicy
        metadata: {name: readers, namespace: default}
        spec:
          rules: [{from: [{source: {principals: [cluster.local/ns/default/sa/frontend]}}]}]
        ---
        apiVersion: networking.istio.io/v1
        kind: DestinationRule
        metadata: {name: reviews, namespace: default}
        spec:
          host: reviews
          trafficPolicy:
            tls: {mode: ISTIO_MUTUAL}
            outlierDetection: {consecutive5xxErrors: 3, interval: 5s, baseEjectionTime: 30s}
          subsets: [{name: v1, labels: {version: v1}}, {name: v2, labels: {version: v2}}]
        ---
        apiVersion: networking.istio.io/v1
        kind: VirtualService
        metadata: {name: reviews, namespace: default}
        spec:
          hosts: [reviews]
          http:
          - fault: {abort: {percentage: {value: 1}, httpStatus: 503}}
            retries: {attempts: 3, retryOn: 5xx}
            route: [{destination: {host: reviews, subset: v1}, weight: 80}, {destination: {host: reviews, subset: v2}, weight: 20}]
        """, false);
    String id = "sidecar~10.1.0.1~r1.default~default.svc.cluster.local";
    try (AdsTestClient c = new AdsTestClient(mesh.port(), AdsTestClient.sidecar("r1", "default", "10.1.0.1"))) {
      c.request(TypeUrls.CLUSTER, List.of());
      c.request(TypeUrls.LISTENER, List.of());
      c.request(TypeUrls.ROUTE, List.of("9080"));
      java.util.Set<String> seen = new java.util.HashSet<>();
      while (seen.size() < 3) seen.add(c.next().getTypeUrl());
      String json = ConfigDumps.json(mesh.ads.configOf(id).orElseThrow(), ConfigDumps.ALL_TYPES);
      assertThat(json).doesNotContain("not shown").contains("envoy.filters.http.rbac").contains("inbound|9080||")
          .contains("envoy.filters.http.fault").contains("outbound|9080|v2|reviews.default.svc.cluster.local");
      assertThat(section(json, "ListenersConfigDump").path("dynamic_listeners").size()).isPositive();
    }
  }

  static JsonNode section(String json, String type) throws Exception {
    for (JsonNode c : new ObjectMapper().readTree(json).path("configs")) {
      if (c.path("@type").asText().endsWith("." + type)) return c;
    }
    throw new AssertionError("no " + type + " in " + json);
  }
}
