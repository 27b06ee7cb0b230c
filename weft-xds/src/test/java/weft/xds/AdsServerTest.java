package weft.xds;

import static org.assertj.core.api.Assertions.assertThat;

import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import io.grpc.Status;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import weft.model.ResourceId;

/** The State-of-the-World protocol as a raw client sees it: versions, nonces, ACK, NACK, removal, pushes. */
class AdsServerTest {
  static final String REVIEWS = "outbound|9080||reviews.default.svc.cluster.local";
  static final String RATINGS = "outbound|9080||ratings.default.svc.cluster.local";

  TestMesh mesh;

  @BeforeEach
  void start() throws Exception {
    mesh = new TestMesh(TestMesh.service("reviews", "default", 9080, "10.1.0.1", "10.1.0.2")
        + TestMesh.service("ratings", "default", 9080, "10.2.0.1"));
  }

  @AfterEach
  void stop() {
    mesh.close();
  }

  @Test
  void ackedResponseIsNotResentAndCarriesVersionAndNonce() throws Exception {
    try (AdsTestClient client = new AdsTestClient(mesh.port(), AdsTestClient.proxyless("a", "default"))) {
      client.request(TypeUrls.CLUSTER, List.of(REVIEWS));
      DiscoveryResponse r = client.next();
      assertThat(r.getVersionInfo()).isNotEmpty();
      assertThat(r.getNonce()).isNotEmpty();
      assertThat(r.getResourcesCount()).isEqualTo(1);
      assertThat(r.getResources(0).unpack(Cluster.class).getName()).isEqualTo(REVIEWS);
      client.ack(r, List.of(REVIEWS));
      // The stream answers in order: a resend caused by the ACK would come before this later answer.
      client.request(TypeUrls.ENDPOINT, List.of(REVIEWS));
      assertThat(client.next().getTypeUrl()).as("the first response after the ACK").isEqualTo(TypeUrls.ENDPOINT);
      assertThat(cds(mesh.ads.proxyStatus().get(0))).containsEntry("acked", true);
    }
  }

  @Test
  void nackIsRecordedCountedAndNotAnsweredWithTheSameConfig() throws Exception {
    try (AdsTestClient client = new AdsTestClient(mesh.port(), AdsTestClient.proxyless("a", "default"))) {
      client.request(TypeUrls.CLUSTER, List.of(REVIEWS));
      DiscoveryResponse r = client.next();
      client.nack(r, "", List.of(REVIEWS), "cluster rejected: unsupported field");
      // The stream answers in order: a resend caused by the NACK would come before this later answer.
      client.request(TypeUrls.ENDPOINT, List.of(REVIEWS));
      assertThat(client.next().getTypeUrl()).as("the first response after the NACK").isEqualTo(TypeUrls.ENDPOINT);
      assertThat(mesh.meters.counter("weft_xds_nacks_total", "type", "CDS").count()).isEqualTo(1.0);
      assertThat(mesh.ads.proxyStatus().get(0).toString()).contains("cluster rejected: unsupported field");
    }
  }

  @Test
  void deletedServiceDisappearsFromTheNextClusterResponse() throws Exception {
    try (AdsTestClient client = new AdsTestClient(mesh.port(), AdsTestClient.proxyless("a", "default"))) {
      List<String> names = List.of(REVIEWS, RATINGS);
      client.request(TypeUrls.CLUSTER, names);
      DiscoveryResponse first = client.next();
      assertThat(first.getResourcesCount()).isEqualTo(2);
      client.ack(first, names);
      mesh.delete(new ResourceId("Service", "default", "ratings"));
      DiscoveryResponse second = client.next();
      assertThat(second.getTypeUrl()).isEqualTo(TypeUrls.CLUSTER);
      assertThat(second.getResourcesList()).extracting(a -> a.unpack(Cluster.class).getName()).containsExactly(REVIEWS);
      assertThat(second.getVersionInfo()).isNotEqualTo(first.getVersionInfo());
    }
  }

  @Test
  void endpointChangePushesOnlyThatClusterToOnlyItsWatchers() throws Exception {
    try (AdsTestClient reviewsWatcher = new AdsTestClient(mesh.port(), AdsTestClient.proxyless("a", "default"));
        AdsTestClient ratingsWatcher = new AdsTestClient(mesh.port(), AdsTestClient.proxyless("b", "default"))) {
      List<String> both = List.of(REVIEWS, RATINGS);
      reviewsWatcher.request(TypeUrls.CLUSTER, both);
      reviewsWatcher.ack(reviewsWatcher.next(), both);
      reviewsWatcher.request(TypeUrls.ENDPOINT, both);
      DiscoveryResponse eds = reviewsWatcher.next();
      assertThat(eds.getResourcesCount()).isEqualTo(2);
      reviewsWatcher.ack(eds, both);
      ratingsWatcher.request(TypeUrls.ENDPOINT, List.of(RATINGS));
      ratingsWatcher.ack(ratingsWatcher.next(), List.of(RATINGS));

      mesh.apply(TestMesh.service("reviews", "default", 9080, "10.1.0.1", "10.1.0.2", "10.1.0.3"), false);

      DiscoveryResponse push = reviewsWatcher.next();
      assertThat(push.getTypeUrl()).isEqualTo(TypeUrls.ENDPOINT);
      assertThat(push.getResourcesCount()).isEqualTo(1);
      ClusterLoadAssignment cla = push.getResources(0).unpack(ClusterLoadAssignment.class);
      assertThat(cla.getClusterName()).isEqualTo(REVIEWS);
      assertThat(cla.getEndpoints(0).getLbEndpointsCount()).isEqualTo(3);
      reviewsWatcher.ack(push, both);

      // A later change that both watch: each stream sends in order, so anything the first change
      // caused besides the push above would arrive before this one's push.
      mesh.apply(TestMesh.service("ratings", "default", 9080, "10.2.0.1", "10.2.0.2"), false);
      for (AdsTestClient watcher : List.of(reviewsWatcher, ratingsWatcher)) {
        DiscoveryResponse next = watcher.next();
        assertThat(next.getTypeUrl()).isEqualTo(TypeUrls.ENDPOINT);
        assertThat(next.getResourcesList()).extracting(a -> a.unpack(ClusterLoadAssignment.class).getClusterName())
            .as("the first thing after the reviews change is the ratings change").containsExactly(RATINGS);
        assertThat(next.getResources(0).unpack(ClusterLoadAssignment.class).getEndpoints(0).getLbEndpointsCount())
            .isEqualTo(2);
      }
    }
  }

  @SuppressWarnings("unchecked")
  static Map<String, Object> cds(Map<String, Object> proxyStatus) {
    return (Map<String, Object>) ((Map<String, Object>) proxyStatus.get("xds")).get("CDS");
  }

  @Test
  void invalidNodeIdIsRefusedWithAReason() throws Exception {
    var node = AdsTestClient.proxyless("a", "default").toBuilder().setId("not-an-istio-id").build();
    try (AdsTestClient client = new AdsTestClient(mesh.port(), node)) {
      client.request(TypeUrls.CLUSTER, List.of(REVIEWS));
      Throwable error = client.errors.poll(60, java.util.concurrent.TimeUnit.SECONDS);
      assertThat(Status.fromThrowable(error).getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
      assertThat(Status.fromThrowable(error).getDescription()).contains("not-an-istio-id").contains("sidecar~");
    }
  }

  @Test
  void clusterIdWithANewlineInNodeMetadataIsRefusedNamingTheField() throws Exception {
    var base = AdsTestClient.proxyless("a", "default");
    var node = base.toBuilder().setMetadata(base.getMetadata().toBuilder().putFields("CLUSTER_ID",
        com.google.protobuf.Value.newBuilder().setStringValue("cluster1\nWARNING forged").build())).build();
    try (AdsTestClient client = new AdsTestClient(mesh.port(), node)) {
      client.request(TypeUrls.CLUSTER, List.of(REVIEWS));
      Throwable error = client.errors.poll(60, java.util.concurrent.TimeUnit.SECONDS);
      assertThat(Status.fromThrowable(error).getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
      assertThat(Status.fromThrowable(error).getDescription()).contains("CLUSTER_ID", "control character")
          .doesNotContain("\n");
    }
  }

  @Test
  void twoControlPlanesWithTheSameInputsSendByteIdenticalResources() throws Exception {
    String yaml = TestMesh.service("reviews", "default", 9080, "10.1.0.2", "10.1.0.1")
        + TestMesh.service("ratings", "default", 9080, "10.2.0.1");
    try (TestMesh other = new TestMesh(yaml);
        AdsTestClient a = new AdsTestClient(mesh.port(), AdsTestClient.proxyless("a", "default"));
        AdsTestClient b = new AdsTestClient(other.port(), AdsTestClient.proxyless("a", "default"))) {
      for (String type : List.of(TypeUrls.CLUSTER, TypeUrls.ENDPOINT, TypeUrls.LISTENER, TypeUrls.ROUTE)) {
        List<String> names = type.equals(TypeUrls.LISTENER) || type.equals(TypeUrls.ROUTE)
            ? List.of("reviews.default.svc.cluster.local:9080") : List.of(REVIEWS, RATINGS);
        a.request(type, names);
        b.request(type, names);
        DiscoveryResponse ra = a.next();
        DiscoveryResponse rb = b.next();
        assertThat(ra.getResourcesList()).isEqualTo(rb.getResourcesList());
        assertThat(ra.getVersionInfo()).isEqualTo(rb.getVersionInfo());
      }
    }
  }
}
