package weft.xds;

import static org.assertj.core.api.Assertions.assertThat;

import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryResponse;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import weft.model.ResourceId;

/** Envoy sidecars over raw SotW and Delta streams: what they see, and how changes reach them. */
class SidecarAdsTest {
  static final String REVIEWS = "outbound|9080||reviews.default.svc.cluster.local";
  static final String SECRET = "outbound|8080||vault.secret.svc.cluster.local";
  static final String EXTERNAL = "outbound|443||api.example.com";
  static final String CONFIG = TestMesh.service("reviews", "default", 9080, "10.1.0.1", "10.1.0.2")
      + """
      apiVersion: v1
      kind: Service
      metadata:
        name: vault
        namespace: secret
        annotations: {networking.istio.io/exportTo: "."}
      spec:
        clusterIP: 10.96.7.7
        ports: [{name: http, port: 8080}]
      ---
      apiVersion: networking.istio.io/v1
      kind: ServiceEntry
      metadata: {name: external-api, namespace: default}
      spec:
        hosts: [api.example.com]
        ports: [{number: 443, name: tls, protocol: TLS}]
        resolution: STATIC
        endpoints: [{address: 203.0.113.10}]
      """;

  TestMesh mesh;

  @BeforeEach
  void start() throws Exception {
    mesh = new TestMesh(CONFIG);
  }

  @AfterEach
  void stop() {
    mesh.close();
  }

  @Test
  void sidecarClustersCoverEveryVisibleServiceAndNoHiddenOne() throws Exception {
    try (AdsTestClient c = new AdsTestClient(mesh.port(), AdsTestClient.sidecar("web-1", "default", "10.1.9.9"))) {
      c.request(TypeUrls.CLUSTER, List.of());
      DiscoveryResponse r = c.next();
      List<String> names = r.getResourcesList().stream().map(a -> unpack(a, Cluster.class).getName()).toList();
      assertThat(names).contains(REVIEWS, EXTERNAL).doesNotContain(SECRET);
      c.request(TypeUrls.LISTENER, List.of());
      DiscoveryResponse l = c.next();
      assertThat(l.getResourcesList()).extracting(a -> unpack(a, Listener.class).getName()).contains("0.0.0.0_9080");
    }
    try (AdsTestClient insider = new AdsTestClient(mesh.port(), AdsTestClient.sidecar("app", "secret", "10.3.9.9"))) {
      insider.request(TypeUrls.CLUSTER, List.of());
      assertThat(insider.next().getResourcesList()).extracting(a -> unpack(a, Cluster.class).getName()).contains(SECRET);
    }
  }

  @Test
  void deltaSidecarSeesAdditionsAndTheDeletedServiceEntryInRemovedResources() throws Exception {
    try (DeltaTestClient c = new DeltaTestClient(mesh.port(), AdsTestClient.sidecar("web-1", "default", "10.1.9.9"))) {
      c.subscribe(TypeUrls.CLUSTER, List.of(), Map.of());
      DeltaDiscoveryResponse first = c.next();
      assertThat(DeltaAdsTest.versions(first)).containsKeys(REVIEWS, EXTERNAL);
      c.ack(first);
      mesh.apply(TestMesh.service("details", "default", 9080, "10.3.0.1"), false);
      DeltaDiscoveryResponse added = c.next();
      assertThat(DeltaAdsTest.versions(added)).containsOnlyKeys("outbound|9080||details.default.svc.cluster.local");
      c.ack(added);
      mesh.delete(new ResourceId("ServiceEntry", "default", "external-api"));
      DeltaDiscoveryResponse removed = c.next();
      assertThat(removed.getRemovedResourcesList()).containsExactly(EXTERNAL);
      assertThat(removed.getResourcesList()).isEmpty();
    }
  }

  @Test
  void reconnectingSidecarIsSentOnlyWhatChangedWhileItWasAway() throws Exception {
    Map<String, String> held;
    try (DeltaTestClient c = new DeltaTestClient(mesh.port(), AdsTestClient.sidecar("web-1", "default", "10.1.9.9"))) {
      c.subscribe(TypeUrls.CLUSTER, List.of(), Map.of());
      DeltaDiscoveryResponse r = c.next();
      c.ack(r);
      held = DeltaAdsTest.versions(r);
    }
    mesh.apply("""
        apiVersion: networking.istio.io/v1
        kind: DestinationRule
        metadata: {name: reviews, namespace: default}
        spec:
          host: reviews
          trafficPolicy: {outlierDetection: {consecutive5xxErrors: 3}}
        """, false);
    try (DeltaTestClient c = new DeltaTestClient(mesh.port(), AdsTestClient.sidecar("web-1", "default", "10.1.9.9"))) {
      c.subscribe(TypeUrls.CLUSTER, List.of(), held);
      DeltaDiscoveryResponse r = c.next();
      assertThat(DeltaAdsTest.versions(r)).containsOnlyKeys(REVIEWS);
      assertThat(r.getRemovedResourcesList()).isEmpty();
    }
  }

  @Test
  void nackedListenersAreRecordedAndTheLastGoodVersionStaysAcked() throws Exception {
    try (AdsTestClient c = new AdsTestClient(mesh.port(), AdsTestClient.sidecar("web-1", "default", "10.1.9.9"))) {
      c.request(TypeUrls.LISTENER, List.of());
      DiscoveryResponse first = c.next();
      c.ack(first, List.of());
      mesh.apply(TestMesh.service("details", "default", 9081, "10.3.0.1"), false);
      DiscoveryResponse second = c.next();
      assertThat(second.getTypeUrl()).isEqualTo(TypeUrls.LISTENER);
      c.nack(second, first.getVersionInfo(), List.of(), "listener 0.0.0.0_9081: bind failed");
      // Responses go out in order: a resend caused by the NACK would come before this later answer.
      c.request(TypeUrls.ENDPOINT, List.of(REVIEWS));
      assertThat(c.next().getTypeUrl()).as("the first response after the NACK").isEqualTo(TypeUrls.ENDPOINT);
      Map<String, Object> status = mesh.ads.proxyStatus().get(0);
      @SuppressWarnings("unchecked")
      Map<String, Object> lds = (Map<String, Object>) ((Map<String, Object>) status.get("xds")).get("LDS");
      assertThat(lds.get("ackedVersion")).isEqualTo(first.getVersionInfo());
      assertThat(lds.toString()).contains("bind failed");
    }
  }

  @Test
  void twoControlPlanesSendTheSameSidecarByteIdenticalResources() throws Exception {
    try (TestMesh other = new TestMesh(CONFIG);
        AdsTestClient a = new AdsTestClient(mesh.port(), AdsTestClient.sidecar("web-1", "default", "10.1.0.1"));
        AdsTestClient b = new AdsTestClient(other.port(), AdsTestClient.sidecar("web-1", "default", "10.1.0.1"))) {
      for (String type : List.of(TypeUrls.CLUSTER, TypeUrls.LISTENER)) {
        a.request(type, List.of());
        b.request(type, List.of());
        DiscoveryResponse ra = a.next();
        DiscoveryResponse rb = b.next();
        assertThat(ra.getResourcesCount()).isGreaterThan(0);
        assertThat(ra.getResourcesList()).isEqualTo(rb.getResourcesList());
        assertThat(ra.getVersionInfo()).isEqualTo(rb.getVersionInfo());
      }
      for (var entry : Map.of(TypeUrls.ROUTE, List.of("9080"), TypeUrls.ENDPOINT, List.of(REVIEWS)).entrySet()) {
        a.request(entry.getKey(), entry.getValue());
        b.request(entry.getKey(), entry.getValue());
        DiscoveryResponse ra = a.next();
        assertThat(ra.getResourcesCount()).isEqualTo(1);
        assertThat(ra.getResourcesList()).isEqualTo(b.next().getResourcesList());
      }
    }
  }

  private static <T extends com.google.protobuf.Message> T unpack(com.google.protobuf.Any any, Class<T> type) {
    try {
      return any.unpack(type);
    } catch (com.google.protobuf.InvalidProtocolBufferException e) {
      throw new AssertionError(e);
    }
  }
}
