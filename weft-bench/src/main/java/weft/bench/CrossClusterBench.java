package weft.bench;

import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSliceBuilder;
import io.fabric8.kubernetes.client.NamespacedKubernetesClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesCrudDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.concurrent.TimeUnit;
import weft.controlplane.ControlPlane;
import weft.controlplane.ControlPlaneOptions;

/**
 * Cross-cluster convergence: C clusters (fabric8 CRUD-mode API servers in this JVM) × S services,
 * a control plane for cluster 1 that discovers the others through remote secrets, and one ADS
 * client of cluster 1 watching a service present in every cluster. Each round changes that
 * service's EndpointSlice in cluster 3's API and times its arrival at the client.
 */
public final class CrossClusterBench {
  public static void main(String[] args) throws Exception {
    int clusters = 10;
    int services = 500;
    int changes = 50;
    for (int i = 0; i + 1 < args.length; i += 2) {
      int v = Integer.parseInt(args[i + 1]);
      switch (args[i]) {
        case "--clusters" -> clusters = v;
        case "--services" -> services = v;
        case "--changes" -> changes = v;
        default -> throw new IllegalArgumentException("unknown option " + args[i]);
      }
    }
    System.out.println(Machine.describe("in this JVM (it shares the harness's heap)"));
    List<KubernetesMockServer> servers = new ArrayList<>();
    List<NamespacedKubernetesClient> clients = new ArrayList<>();
    Path secrets = Files.createTempDirectory("weft-bench-secrets");
    Path kubeconfig = Files.createTempFile("weft-bench", ".yaml");
    long t0 = System.nanoTime();
    for (int c = 1; c <= clusters; c++) {
      KubernetesMockServer server = new KubernetesMockServer(new Context(), new MockWebServer(), new HashMap<>(),
          new KubernetesCrudDispatcher(), false);
      server.init();
      NamespacedKubernetesClient client = server.createClient();
      servers.add(server);
      clients.add(client);
      for (int s = 0; s < services; s++) {
        client.services().inNamespace("bench").resource(new ServiceBuilder().withNewMetadata().withName("svc-" + s)
            .withNamespace("bench").endMetadata().withNewSpec().addNewPort().withName("http").withPort(8080).endPort()
            .endSpec().build()).create();
        client.discovery().v1().endpointSlices().inNamespace("bench").resource(slice(c, s, -1)).create();
      }
      String config = kubeconfig(c, client.getMasterUrl().toString());
      if (c == 1) {
        Files.writeString(kubeconfig, config);
      } else {
        Files.writeString(secrets.resolve("cluster" + c + ".yaml"), """
            apiVersion: v1
            kind: Secret
            metadata: {name: istio-remote-secret-cluster%d, namespace: istio-system, labels: {istio/multiCluster: "true"}}
            stringData:
              cluster%d: |
            %s""".formatted(c, c, config.indent(4)));
      }
    }
    System.out.printf("%d clusters x %d services created in %d ms%n", clusters, services,
        Stats.ms(System.nanoTime() - t0));
    long start = System.nanoTime();
    ControlPlane cp = ControlPlane.start(ControlPlaneOptions.forKubeconfig(kubeconfig).withPorts(0, 0)
        .withRemoteSecrets(secrets, null, Duration.ofSeconds(120)));
    long synced = cp.registry().current().clusters().values().stream().filter(c -> c.synced() && !c.stale()).count();
    System.out.printf("control plane ready in %d ms with %d of %d clusters synced: %d services, %d endpoints%n",
        Stats.ms(System.nanoTime() - start), synced, clusters, cp.registry().current().services().size(),
        cp.registry().current().services().values().stream().mapToInt(v -> v.endpoints().size()).sum());
    ManagedChannel channel = NettyChannelBuilder.forAddress("127.0.0.1", cp.xdsPort()).usePlaintext()
        .directExecutor().build();
    String hot = MeshFiles.hostname(0);
    BenchStream stream = new BenchStream(channel, 0, "cluster1", List.of(hot), hot);
    stream.subscribe();
    if (!stream.awaitSynced(60, TimeUnit.SECONDS)) {
      throw new IllegalStateException("the client did not sync within 60 s (" + stream.missing() + ")");
    }
    NamespacedKubernetesClient cluster3 = clients.get(Math.min(2, clients.size() - 1));
    int changed = Math.min(3, clusters);
    List<Long> latencies = new ArrayList<>();
    int warmup = 10;
    for (int i = 0; i < warmup + changes; i++) {
      String marker = "10.254." + (i / 250) + "." + (i % 250 + 1);
      stream.await(marker);
      long begin = System.nanoTime();
      cluster3.discovery().v1().endpointSlices().inNamespace("bench").resource(slice(changed, 0, i)).update();
      long deadline = begin + TimeUnit.SECONDS.toNanos(10);
      while (stream.arrivedNanos() == 0 && System.nanoTime() < deadline) Thread.sleep(1);
      if (i >= warmup && stream.arrivedNanos() != 0) latencies.add(stream.arrivedNanos() - begin);
      Thread.sleep(50);
    }
    System.out.printf("(after %d warm-up changes) EndpointSlice change in cluster %d's API -> cluster 1 client has it,"
        + " over %d changes: p50 %.1f ms, p99 %.1f ms%n", warmup, changed, latencies.size(),
        Stats.pct(latencies, 50), Stats.pct(latencies, 99));
    stream.close();
    channel.shutdownNow();
    cp.close();
    for (NamespacedKubernetesClient c : clients) c.close();
    for (KubernetesMockServer s : servers) s.destroy();
    System.exit(0);
  }

  private static EndpointSlice slice(int cluster, int service, int change) {
    EndpointSliceBuilder b = new EndpointSliceBuilder().withNewMetadata().withName("svc-" + service + "-1")
        .withNamespace("bench").addToLabels("kubernetes.io/service-name", "svc-" + service).endMetadata()
        .withAddressType("IPv4").addNewPort().withName("http").withPort(8080).endPort();
    for (int e = 0; e < 2; e++) {
      String ip = change >= 0 && e == 0 ? "10.254." + (change / 250) + "." + (change % 250 + 1)
          : "10." + cluster + "." + (service % 250) + "." + (service / 250 * 10 + e + 1);
      b.addNewEndpoint().withAddresses(ip).withNewConditions().withReady(true).endConditions().endEndpoint();
    }
    return b.build();
  }

  private static String kubeconfig(int cluster, String url) {
    return """
        apiVersion: v1
        kind: Config
        clusters: [{name: c%d, cluster: {server: "%s"}}]
        contexts: [{name: c%d, context: {cluster: c%d, user: u}}]
        current-context: c%d
        users: [{name: u, user: {token: bench}}]
        """.formatted(cluster, url.replaceAll("/$", ""), cluster, cluster, cluster);
  }

}
