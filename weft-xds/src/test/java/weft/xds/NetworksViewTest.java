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

/** Partitioned discovery end to end in the control plane: gateways found from Services, EDS per network. */
class NetworksViewTest {
  TestMesh mesh;

  @AfterEach
  void stop() {
    if (mesh != null) mesh.close();
  }

  static String workload(String ip, String network) {
    return TestMesh.service("reviews", "default", 9080, ip) + """
        apiVersion: v1
        kind: Pod
        metadata:
          name: p-%s
          namespace: default
          labels: {topology.istio.io/network: %s, security.istio.io/tlsMode: istio}
        status: {podIP: %s, phase: Running}
        ---
        """.formatted(ip.replace('.', '-'), network, ip);
  }

  static final String EASTWEST_GATEWAY = """
      apiVersion: v1
      kind: Service
      metadata:
        name: istio-eastwestgateway
        namespace: istio-system
        labels: {topology.istio.io/network: network-2}
      spec:
        type: LoadBalancer
        ports: [{name: tls, port: 15443}]
      status:
        loadBalancer:
          ingress: [{ip: 198.19.2.100}]
      """;

  ClusterLoadAssignment endpoints(String network, boolean proxyless) throws Exception {
    return endpoints(network, proxyless, "sidecar");
  }

  ClusterLoadAssignment endpoints(String network, boolean proxyless, String kind) throws Exception {
    Proxy p = new Proxy(kind + "~198.18.0.9~c.default~default.svc.cluster.local", kind, "198.18.0.9", "c",
        "default", "cluster1", network, Map.of(), "", Locality.UNKNOWN, proxyless, "");
    String name = "outbound|9080||reviews.default.svc.cluster.local";
    return new Generators().generate(TypeUrls.ENDPOINT, new ProxyView(mesh.registry.current(), p), List.of(name))
        .get(name).unpack(ClusterLoadAssignment.class);
  }

  static List<String> addresses(ClusterLoadAssignment cla) {
    return cla.getEndpointsList().stream().flatMap(l -> l.getLbEndpointsList().stream())
        .map(e -> e.getEndpoint().getAddress().getSocketAddress().getAddress() + ":"
            + e.getEndpoint().getAddress().getSocketAddress().getPortValue()).sorted().toList();
  }

  @Test
  void envoyInNetworkOneReachesNetworkTwoThroughItsGatewayAndViceVersaDirectly() throws Exception {
    // The same address in both networks: overlapping ranges are fine across networks.
    mesh = new TestMesh(workload("198.18.1.10", "network-1"));
    mesh.apply("cluster2", workload("198.18.1.10", "network-2") + EASTWEST_GATEWAY, true);
    assertThat(mesh.registry.current().gateways().get("network-2")).hasSize(1);
    assertThat(addresses(endpoints("network-1", false))).containsExactly("198.18.1.10:9080", "198.19.2.100:15443");
    // network-1 has no gateway: its endpoint is sent as directly reachable (and flagged).
    assertThat(addresses(endpoints("network-2", false))).containsExactly("198.18.1.10:9080", "198.18.1.10:9080");
    // network-2's east-west gateway forwards only to its own network, never on to another.
    assertThat(addresses(endpoints("network-2", false, "router"))).containsExactly("198.18.1.10:9080");
    // A proxyless client with mTLS to the service (auto mTLS: the workloads take it) crosses too.
    assertThat(addresses(endpoints("network-1", true))).containsExactly("198.18.1.10:9080", "198.19.2.100:15443");
  }

  @Test
  void proxylessClientWithoutMtlsKeepsToItsOwnNetwork() throws Exception {
    mesh = new TestMesh(workload("198.18.1.10", "network-1") + """
        apiVersion: security.istio.io/v1
        kind: PeerAuthentication
        metadata: {name: default, namespace: istio-system}
        spec:
          mtls: {mode: DISABLE}
        ---
        """);
    mesh.apply("cluster2", workload("198.18.1.10", "network-2") + EASTWEST_GATEWAY, true);
    assertThat(addresses(endpoints("network-1", true))).containsExactly("198.18.1.10:9080");
  }
}
