package weft.xds;

import static org.assertj.core.api.Assertions.assertThat;

import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import weft.registry.Locality;
import weft.xds.proxy.Proxy;
import weft.xds.view.ProxyView;

/** failoverPriority on network then cluster, across two clusters, as a proxy of cluster1 sees it. */
class FailoverPriorityViewTest {
  TestMesh mesh;

  @AfterEach
  void stop() {
    if (mesh != null) mesh.close();
  }

  static String workload(String ip, String network) {
    return TestMesh.service("reviews", "default", 9080, ip) + """
        apiVersion: v1
        kind: Pod
        metadata: {name: p-%s, namespace: default, labels: {topology.istio.io/network: %s}}
        status: {podIP: %s, phase: Running}
        ---
        """.formatted(ip.replace('.', '-'), network, ip);
  }

  @Test
  void ownNetworkAndClusterFirstThenOwnNetworkInTheOtherCluster() throws Exception {
    mesh = new TestMesh(workload("10.1.0.1", "network-1") + """
        apiVersion: networking.istio.io/v1
        kind: DestinationRule
        metadata: {name: reviews, namespace: default}
        spec:
          host: reviews
          trafficPolicy:
            outlierDetection: {consecutive5xxErrors: 1}
            loadBalancer:
              localityLbSetting:
                failoverPriority: [topology.istio.io/network, topology.istio.io/cluster]
        """);
    mesh.apply("cluster2", workload("10.2.0.1", "network-1"), true);
    Proxy proxy = new Proxy("sidecar~10.9.0.1~c.default~default.svc.cluster.local", "sidecar", "10.9.0.1", "c",
        "default", "cluster1", "network-1", Map.of(), "", Locality.UNKNOWN, true, "");
    String name = "outbound|9080||reviews.default.svc.cluster.local";
    ClusterLoadAssignment cla = new Generators().generate(TypeUrls.ENDPOINT,
        new ProxyView(mesh.registry.current(), proxy), List.of(name)).get(name).unpack(ClusterLoadAssignment.class);
    assertThat(cla.getEndpointsList()).extracting(l -> l.getPriority() + "=" + l.getLbEndpoints(0).getEndpoint()
        .getAddress().getSocketAddress().getAddress()).containsExactly("0=10.1.0.1", "1=10.2.0.1");
    // One locality in two priorities: proxyless clients get a distinct name for each part.
    assertThat(cla.getEndpointsList()).extracting(l -> l.getLocality().getSubZone())
        .containsExactly("~priority-0", "~priority-1");
  }
}
