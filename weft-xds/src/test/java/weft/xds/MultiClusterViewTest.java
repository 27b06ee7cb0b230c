package weft.xds;

import static org.assertj.core.api.Assertions.assertThat;

import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import weft.model.MeshConfig;
import weft.registry.Locality;
import weft.xds.proxy.Proxy;
import weft.xds.view.ProxyView;

/** Namespace sameness seen from proxies in different clusters: cluster-local hosts and cluster subsets. */
class MultiClusterViewTest {
  TestMesh mesh;

  @AfterEach
  void stop() {
    if (mesh != null) mesh.close();
  }

  ProxyView view(String cluster) {
    Proxy p = new Proxy("sidecar~10.9.0.1~c.default~default.svc.cluster.local", "sidecar", "10.9.0.1", "c",
        "default", cluster, "", Map.of(), "", Locality.UNKNOWN, true, "");
    return new ProxyView(mesh.registry.current(), p);
  }

  ClusterLoadAssignment endpoints(String cluster, String name) throws Exception {
    return new Generators().generate(TypeUrls.ENDPOINT, view(cluster), List.of(name)).get(name)
        .unpack(ClusterLoadAssignment.class);
  }

  static List<String> addresses(ClusterLoadAssignment cla) {
    return cla.getEndpointsList().stream().flatMap(l -> l.getLbEndpointsList().stream())
        .map(e -> e.getEndpoint().getAddress().getSocketAddress().getAddress()).sorted().toList();
  }

  @Test
  void sameServiceInTwoClustersIsBalancedOverBothByDefault() throws Exception {
    mesh = new TestMesh(TestMesh.service("reviews", "default", 9080, "10.1.0.1"));
    mesh.apply("cluster2", TestMesh.service("reviews", "default", 9080, "10.2.0.1"), true);
    String name = "outbound|9080||reviews.default.svc.cluster.local";
    assertThat(addresses(endpoints("cluster1", name))).containsExactly("10.1.0.1", "10.2.0.1");
    assertThat(addresses(endpoints("cluster2", name))).containsExactly("10.1.0.1", "10.2.0.1");
  }

  @Test
  void clusterLocalServiceIsSeenOnlyFromItsOwnCluster() throws Exception {
    mesh = new TestMesh(TestMesh.service("kube-dns", "kube-system", 53, "10.1.0.53"));
    mesh.apply("cluster2", TestMesh.service("other", "default", 80, "10.2.0.9"), true);
    assertThat(view("cluster1").service("kube-dns.kube-system.svc.cluster.local")).isNotNull();
    ProxyView remote = view("cluster2");
    assertThat(remote.service("kube-dns.kube-system.svc.cluster.local")).isNull();
    assertThat(remote.dropped().get("kube-dns.kube-system.svc.cluster.local"))
        .contains("cluster-local").contains("cluster2");
  }

  @Test
  void meshConfigClusterLocalKeepsTrafficInTheCallersCluster() throws Exception {
    mesh = new TestMesh(TestMesh.service("reviews", "default", 9080, "10.1.0.1"));
    mesh.apply("cluster2", TestMesh.service("reviews", "default", 9080, "10.2.0.1"), true);
    MeshConfig d = MeshConfig.defaults();
    mesh.registry.setMeshConfig(new MeshConfig(d.rootNamespace(), d.trustDomain(), List.of(), List.of("*"),
        List.of("*"), List.of("*"), null,
        List.of(new MeshConfig.ServiceSettings(true, List.of("*.default.svc.cluster.local"))), "", List.of()));
    mesh.registry.flush();
    String name = "outbound|9080||reviews.default.svc.cluster.local";
    assertThat(addresses(endpoints("cluster1", name))).containsExactly("10.1.0.1");
    assertThat(addresses(endpoints("cluster2", name))).containsExactly("10.2.0.1");
  }

  @Test
  void subsetOnTheClusterLabelSelectsOneClusterForBlueGreen() throws Exception {
    mesh = new TestMesh(TestMesh.service("reviews", "default", 9080, "10.1.0.1") + """
        apiVersion: networking.istio.io/v1
        kind: DestinationRule
        metadata: {name: reviews, namespace: default}
        spec:
          host: reviews
          subsets:
          - name: blue
            labels: {topology.istio.io/cluster: cluster1}
          - name: green
            labels: {topology.istio.io/cluster: cluster2}
        """);
    mesh.apply("cluster2", TestMesh.service("reviews", "default", 9080, "10.2.0.1"), true);
    assertThat(addresses(endpoints("cluster1", "outbound|9080|blue|reviews.default.svc.cluster.local")))
        .containsExactly("10.1.0.1");
    assertThat(addresses(endpoints("cluster1", "outbound|9080|green|reviews.default.svc.cluster.local")))
        .containsExactly("10.2.0.1");
  }
}
