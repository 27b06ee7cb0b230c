package weft.e2e;

import static org.awaitility.Awaitility.await;

import io.grpc.ManagedChannel;
import io.grpc.NameResolverRegistry;
import io.grpc.Server;
import io.grpc.xds.XdsNameResolverProvider;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import weft.controlplane.ControlPlane;
import weft.controlplane.ControlPlaneOptions;
import weft.demo.GrpcBootstrap;

/**
 * {@code failoverPriority} on network then cluster, with a real grpc-java client in network-1 and
 * cluster1: its own network and cluster first, then its network in the other cluster.
 */
class FailoverPriorityTest {
  Path c1;
  Path c2;
  ControlPlane cp;
  Mesh mesh;

  @AfterEach
  void stop() throws Exception {
    if (mesh != null) mesh.closeClients();
    if (cp != null) cp.close();
  }

  static String endpoint(String service, int port, String pod, String ip, String network) {
    return Yamls.service(service, "default", 9080, port, null) + """
        ---
        apiVersion: discovery.k8s.io/v1
        kind: EndpointSlice
        metadata: {name: %s-%s, namespace: default, labels: {kubernetes.io/service-name: %s}}
        addressType: IPv4
        ports: [{name: grpc, port: %d}]
        endpoints:
        - {addresses: ["%s"], targetRef: {kind: Pod, name: %s}}
        ---
        apiVersion: v1
        kind: Pod
        metadata: {name: %s, namespace: default, labels: {app: %s, topology.istio.io/network: %s}}
        status: {podIP: %s, phase: Running}
        """.formatted(service, pod, service, port, ip, pod, pod, service, network, ip);
  }

  @Test
  void trafficStaysInTheClientsNetworkAndClusterThenItsNetworkElsewhere() throws Exception {
    c1 = Files.createTempDirectory("weft-fp-c1");
    c2 = Files.createTempDirectory("weft-fp-c2");
    int port = Mesh.freePort();
    Files.writeString(c1.resolve("reviews.yaml"), endpoint("reviews", port, "local", "127.0.5.1", "network-1")
        + "---\n" + """
        apiVersion: networking.istio.io/v1
        kind: DestinationRule
        metadata: {name: reviews, namespace: default}
        spec:
          host: reviews
          trafficPolicy:
            outlierDetection: {consecutive5xxErrors: 1, interval: 1s, baseEjectionTime: 30s}
            loadBalancer:
              localityLbSetting:
                failoverPriority: [topology.istio.io/network, topology.istio.io/cluster]
        """);
    Files.writeString(c2.resolve("reviews.yaml"), endpoint("reviews", port, "same-network", "127.0.5.2", "network-1"));
    cp = ControlPlane.start(ControlPlaneOptions.forConfigDir(c1).withPorts(0, 0)
        .withRemoteConfigDirs(Map.of("cluster2", c2)));
    mesh = new Mesh(cp);
    Server local = startEcho("local", "127.0.5.1", port);
    startEcho("same-network", "127.0.5.2", port);
    String scheme = "xds-fp";
    NameResolverRegistry.getDefaultRegistry().register(XdsNameResolverProvider.createForTest(scheme,
        GrpcBootstrap.of("localhost:" + cp.xdsPort(), "client", "default", "127.0.0.1", "cluster1", "network-1",
            Map.of("app", "client"), "")));
    ManagedChannel client = io.grpc.Grpc.newChannelBuilder(scheme + ":///reviews.default.svc.cluster.local:9080",
        io.grpc.InsecureChannelCredentials.create()).build();
    try {
      await().atMost(Duration.ofSeconds(60))
          .until(() -> LocalityFailoverTest.spread(client, 60).keySet().equals(Set.of("local")));
      local.shutdownNow().awaitTermination();
      await().atMost(Duration.ofSeconds(60))
          .until(() -> LocalityFailoverTest.spread(client, 30).keySet().equals(Set.of("same-network")));
    } finally {
      client.shutdownNow();
    }
  }

  private Server startEcho(String name, String ip, int port) throws Exception {
    Server s = io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder.forAddress(new java.net.InetSocketAddress(ip, port))
        .addService(weft.demo.EchoService.named(name)).build().start();
    mesh.track(s);
    return s;
  }
}
