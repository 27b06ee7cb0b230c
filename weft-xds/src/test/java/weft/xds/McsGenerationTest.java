package weft.xds;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Any;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.endpoint.v3.LbEndpoint;
import io.envoyproxy.envoy.config.endpoint.v3.LocalityLbEndpoints;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import weft.dns.nds.NameTable;
import weft.registry.McsSettings;

/** Multi-Cluster Services in generated config: the clusterset name's table entry and who gets which endpoints. */
class McsGenerationTest {
  static final String CLUSTERSET = "reviews.default.svc.clusterset.local";
  static final String LOCAL_CLUSTER = "outbound|9080||reviews.default.svc.cluster.local";
  static final String SET_CLUSTER = "outbound|9080||" + CLUSTERSET;

  TestMesh mesh;

  @AfterEach
  void stop() {
    if (mesh != null) mesh.close();
  }

  static String reviews(String vip, String ip) {
    return """
        apiVersion: v1
        kind: Service
        metadata: {name: reviews, namespace: default}
        spec: {clusterIP: %s, ports: [{name: tcp, port: 9080}]}
        ---
        apiVersion: discovery.k8s.io/v1
        kind: EndpointSlice
        metadata: {name: reviews-1, namespace: default, labels: {kubernetes.io/service-name: reviews}}
        addressType: IPv4
        ports: [{name: tcp, port: 9080}]
        endpoints:
        - addresses: ["%s"]
        ---
        """.formatted(vip, ip);
  }

  static final String EXPORT = """
      apiVersion: multicluster.x-k8s.io/v1alpha1
      kind: ServiceExport
      metadata: {name: reviews, namespace: default}
      """;

  /** The endpoint addresses of the assignment for {@code cluster} in the response, sorted. */
  static List<String> addresses(DiscoveryResponse r, String cluster) throws Exception {
    List<String> out = new ArrayList<>();
    for (Any a : r.getResourcesList()) {
      ClusterLoadAssignment cla = a.unpack(ClusterLoadAssignment.class);
      if (!cla.getClusterName().equals(cluster)) continue;
      for (LocalityLbEndpoints l : cla.getEndpointsList()) {
        for (LbEndpoint e : l.getLbEndpointsList()) out.add(e.getEndpoint().getAddress().getSocketAddress().getAddress());
      }
    }
    out.sort(null);
    return out;
  }

  void mesh(McsSettings mcs) throws Exception {
    mesh = new TestMesh(reviews("10.96.0.1", "10.1.0.1"));
    mesh.registry.setMcs(mcs);
    mesh.apply("cluster2", reviews("10.97.0.1", "10.2.0.1") + EXPORT, true);
    mesh.apply("cluster3", reviews("10.98.0.1", "10.3.0.1"), true);
  }

  @Test
  void theClustersetNameHasAnAllocatedAddressAndNoSearchPathForms() throws Exception {
    mesh(new McsSettings(true, true, false, false));
    try (AdsTestClient c = new AdsTestClient(mesh.port(),
        NameTableTest.capturing(AdsTestClient.sidecar("web-1", "default", "10.1.9.9")))) {
      c.request(TypeUrls.NAME_TABLE, List.of());
      NameTable table = NameTableTest.table(c.next());
      NameTable.NameInfo set = table.getTableOrThrow(CLUSTERSET);
      assertThat(set.getIps(0)).startsWith("240.240.");
      assertThat(set.getShortname()).isEmpty();
      assertThat(table.getTableOrThrow("reviews.default.svc.cluster.local").getIpsList()).containsExactly("10.96.0.1");
      // Envoy's outbound TCP listener for the clusterset name binds where its name table points.
      c.request(TypeUrls.LISTENER, List.of());
      assertThat(NameTableTest.listener(c.next(), set.getIps(0) + "_9080")).isNotNull();
    }
  }

  @Test
  void endpointsFollowTheExportsAndClusterLocalKeepsToTheCallersCluster() throws Exception {
    mesh(new McsSettings(true, true, false, false));
    try (AdsTestClient c = new AdsTestClient(mesh.port(), AdsTestClient.sidecar("web-1", "default", "10.1.9.9"))) {
      c.request(TypeUrls.ENDPOINT, List.of(LOCAL_CLUSTER, SET_CLUSTER));
      DiscoveryResponse eds = c.next();
      assertThat(eds.getResourcesList()).hasSize(2);
      // cluster.local: the proxy's own cluster plus the exporting one, never cluster 3.
      assertThat(addresses(eds, LOCAL_CLUSTER)).containsExactly("10.1.0.1", "10.2.0.1");
      assertThat(addresses(eds, SET_CLUSTER)).containsExactly("10.2.0.1");
    }
    mesh.registry.setMcs(new McsSettings(true, true, true, false));
    mesh.registry.flush();
    try (AdsTestClient c = new AdsTestClient(mesh.port(), AdsTestClient.sidecar("web-2", "default", "10.1.9.8"))) {
      c.request(TypeUrls.ENDPOINT, List.of(LOCAL_CLUSTER));
      assertThat(addresses(c.next(), LOCAL_CLUSTER)).containsExactly("10.1.0.1");
    }
  }
}
