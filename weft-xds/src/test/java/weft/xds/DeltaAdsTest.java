package weft.xds;

import static org.assertj.core.api.Assertions.assertThat;

import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryResponse;
import io.envoyproxy.envoy.service.discovery.v3.Resource;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import weft.model.ResourceId;

/** Delta (incremental) ADS as a raw client sees it. */
class DeltaAdsTest {
  static final String REVIEWS = "outbound|9080||reviews.default.svc.cluster.local";
  static final String RATINGS = "outbound|9080||ratings.default.svc.cluster.local";
  static final String EXTERNAL = "outbound|443||api.example.com";
  static final String ENTRY = """
      apiVersion: networking.istio.io/v1
      kind: ServiceEntry
      metadata: {name: external-api, namespace: default}
      spec:
        hosts: [api.example.com]
        ports: [{number: 443, name: https, protocol: TLS}]
        resolution: STATIC
        endpoints: [{address: 203.0.113.10}]
      """;

  TestMesh mesh;

  @BeforeEach
  void start() throws Exception {
    mesh = new TestMesh(TestMesh.service("reviews", "default", 9080, "10.1.0.1")
        + TestMesh.service("ratings", "default", 9080, "10.2.0.1") + ENTRY);
  }

  @AfterEach
  void stop() {
    mesh.close();
  }

  static Map<String, String> versions(DeltaDiscoveryResponse r) {
    return r.getResourcesList().stream().collect(Collectors.toMap(Resource::getName, Resource::getVersion));
  }

  /**
   * Shows that what the client just sent was answered with nothing: a stream's requests are handled
   * in order and its responses go out in order, so a response to the earlier request would arrive
   * before the answer to this later, unrelated subscription.
   */
  static void assertFirstResponseAfterIsALaterEndpointSubscription(DeltaTestClient c) throws InterruptedException {
    c.subscribe(TypeUrls.ENDPOINT, List.of(RATINGS), Map.of());
    DeltaDiscoveryResponse next = c.next();
    assertThat(next.getTypeUrl()).as("the first response after it").isEqualTo(TypeUrls.ENDPOINT);
    assertThat(versions(next)).containsOnlyKeys(RATINGS);
  }

  @Test
  void explicitSubscriptionGetsEachResourceWithItsOwnVersionAndAnAckEndsIt() throws Exception {
    try (DeltaTestClient c = new DeltaTestClient(mesh.port(), AdsTestClient.proxyless("a", "default"))) {
      c.subscribe(TypeUrls.CLUSTER, List.of(REVIEWS, RATINGS), Map.of());
      DeltaDiscoveryResponse r = c.next();
      assertThat(versions(r)).containsOnlyKeys(REVIEWS, RATINGS).allSatisfy((n, v) -> assertThat(v).isNotEmpty());
      assertThat(r.getNonce()).isNotEmpty();
      c.ack(r);
      assertFirstResponseAfterIsALaterEndpointSubscription(c);
    }
  }

  @Test
  void wildcardShowsAdditionsAndADeletedServiceEntryInRemovedResources() throws Exception {
    try (DeltaTestClient c = new DeltaTestClient(mesh.port(), AdsTestClient.proxyless("a", "default"))) {
      c.subscribe(TypeUrls.CLUSTER, List.of(), Map.of());
      DeltaDiscoveryResponse first = c.next();
      assertThat(versions(first)).containsOnlyKeys(REVIEWS, RATINGS, EXTERNAL);
      c.ack(first);
      mesh.apply(TestMesh.service("details", "default", 9080, "10.3.0.1"), false);
      DeltaDiscoveryResponse added = c.next();
      assertThat(versions(added)).containsOnlyKeys("outbound|9080||details.default.svc.cluster.local");
      assertThat(added.getRemovedResourcesList()).isEmpty();
      c.ack(added);
      mesh.delete(new ResourceId("ServiceEntry", "default", "external-api"));
      DeltaDiscoveryResponse removed = c.next();
      assertThat(removed.getResourcesList()).isEmpty();
      assertThat(removed.getRemovedResourcesList()).containsExactly(EXTERNAL);
    }
  }

  @Test
  void reconnectWithInitialVersionsReceivesOnlyWhatChanged() throws Exception {
    Map<String, String> held;
    try (DeltaTestClient c = new DeltaTestClient(mesh.port(), AdsTestClient.proxyless("a", "default"))) {
      c.subscribe(TypeUrls.CLUSTER, List.of(), Map.of());
      DeltaDiscoveryResponse r = c.next();
      c.ack(r);
      held = versions(r);
    }
    // While the client is away: ratings gets a new policy, the ServiceEntry goes.
    mesh.apply("""
        apiVersion: networking.istio.io/v1
        kind: DestinationRule
        metadata: {name: ratings, namespace: default}
        spec:
          host: ratings
          trafficPolicy: {loadBalancer: {simple: LEAST_REQUEST}}
        """, false);
    mesh.delete(new ResourceId("ServiceEntry", "default", "external-api"));
    try (DeltaTestClient c = new DeltaTestClient(mesh.port(), AdsTestClient.proxyless("a", "default"))) {
      c.subscribe(TypeUrls.CLUSTER, List.of(), held);
      DeltaDiscoveryResponse r = c.next();
      assertThat(versions(r)).containsOnlyKeys(RATINGS);
      assertThat(versions(r).get(RATINGS)).isNotEqualTo(held.get(RATINGS));
      assertThat(r.getRemovedResourcesList()).containsExactly(EXTERNAL);
    }
  }

  @Test
  void nackKeepsTheLastAckedVersionAndIsNotAnsweredWithTheSameConfig() throws Exception {
    try (DeltaTestClient c = new DeltaTestClient(mesh.port(), AdsTestClient.proxyless("a", "default"))) {
      c.subscribe(TypeUrls.CLUSTER, List.of(REVIEWS), Map.of());
      DeltaDiscoveryResponse first = c.next();
      c.ack(first);
      mesh.apply("""
          apiVersion: networking.istio.io/v1
          kind: DestinationRule
          metadata: {name: reviews, namespace: default}
          spec:
            host: reviews
            trafficPolicy: {loadBalancer: {simple: LEAST_REQUEST}}
          """, false);
      DeltaDiscoveryResponse second = c.next();
      c.nack(second, "unsupported lb policy");
      assertFirstResponseAfterIsALaterEndpointSubscription(c);
      Map<String, Object> status = mesh.ads.proxyStatus().get(0);
      @SuppressWarnings("unchecked")
      Map<String, Object> cds = (Map<String, Object>) ((Map<String, Object>) status.get("xds")).get("CDS");
      assertThat(cds.get("ackedVersion")).isEqualTo(first.getSystemVersionInfo());
      assertThat(cds.toString()).contains("unsupported lb policy");
      assertThat(status.get("protocol")).isEqualTo("delta");
    }
  }

  @Test
  void unsubscribingAndSubscribingAgainResendsAndAMissingNameIsReportedRemoved() throws Exception {
    try (DeltaTestClient c = new DeltaTestClient(mesh.port(), AdsTestClient.proxyless("a", "default"))) {
      c.subscribe(TypeUrls.CLUSTER, List.of(REVIEWS), Map.of());
      c.ack(c.next());
      c.unsubscribe(TypeUrls.CLUSTER, List.of(REVIEWS));
      assertFirstResponseAfterIsALaterEndpointSubscription(c);
      c.subscribe(TypeUrls.CLUSTER, List.of(REVIEWS, "outbound|9080||nope.default.svc.cluster.local"), Map.of());
      DeltaDiscoveryResponse r = c.next();
      assertThat(versions(r)).containsOnlyKeys(REVIEWS);
      assertThat(r.getRemovedResourcesList()).containsExactly("outbound|9080||nope.default.svc.cluster.local");
    }
  }

  @Test
  void endpointChangeSendsOnlyTheChangedAssignment() throws Exception {
    try (DeltaTestClient c = new DeltaTestClient(mesh.port(), AdsTestClient.proxyless("a", "default"))) {
      c.subscribe(TypeUrls.ENDPOINT, List.of(REVIEWS, RATINGS), Map.of());
      c.ack(c.next());
      mesh.apply(TestMesh.service("ratings", "default", 9080, "10.2.0.1", "10.2.0.2"), false);
      DeltaDiscoveryResponse r = c.next();
      assertThat(versions(r)).containsOnlyKeys(RATINGS);
    }
  }
}
