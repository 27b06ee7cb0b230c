package weft.demo;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.protobuf.StringValue;
import io.grpc.CallOptions;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.ClientCalls;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import io.grpc.InsecureServerCredentials;
import io.grpc.xds.XdsChannelCredentials;
import io.grpc.xds.XdsServerBuilder;
import io.grpc.xds.XdsServerCredentials;
import weft.agent.WorkloadIdentity;
import weft.agent.bootstrap.XdsBootstrap;
import weft.agent.bootstrap.XdsTransport;
import weft.agent.cert.CaClient;
import weft.agent.cert.CertificateFiles;
import weft.agent.cert.CertificateManager;
import weft.agent.cert.TrustRoots;
import weft.controlplane.ControlPlane;
import weft.controlplane.ControlPlaneOptions;
import weft.gateway.Gateway;
import weft.gateway.GatewayOptions;

/**
 * {@code weft demo}: a control plane (with its CA) on a generated config of two clusters on two
 * networks, three xDS echo servers with mTLS, an east-west gateway for network-2, and a proxyless
 * gRPC client in network-1, us-east/zone-a, calling {@code xds:///echo.default.svc.cluster.local:9080}.
 * Each second it prints which endpoint answered while the demo shifts traffic live: across
 * clusters and networks (network-2 only through its gateway), by VirtualService weights, then by
 * locality failover as endpoints stop and come back.
 */
public final class Demo {
  private final PrintStream out;
  private final long durationMillis;
  private final Map<String, Server> servers = new LinkedHashMap<>();
  private final Map<String, Integer> ports = new LinkedHashMap<>();
  private final Map<String, CertificateManager> certificates = new LinkedHashMap<>();
  private ControlPlane cp;

  public Demo(PrintStream out, long durationSeconds) {
    this.out = out;
    this.durationMillis = durationSeconds * 1000;
  }

  /** One step of the story: what it does to the mesh, and what the client should then see. */
  private interface Step {
    void apply() throws Exception;
  }

  /** Runs until the duration has passed or the thread is interrupted (Ctrl-C). Returns 0 on success. */
  public int run() throws Exception {
    Path root = Files.createTempDirectory("weft-demo");
    Path cluster1 = Files.createDirectory(root.resolve("cluster1"));
    Path cluster2 = Files.createDirectory(root.resolve("cluster2"));
    ManagedChannel channel = null;
    Gateway gateway = null;
    try {
      for (String[] w : DemoMesh.WORKLOADS) ports.put(w[0], freePort());
      int gatewayPort = freePort();
      DemoMesh.write(cluster1, cluster2, ports, gatewayPort);
      DemoMesh.writeDestinationRule(cluster1, false);
      Path tokens = root.resolve("ca-tokens.yaml");
      Files.writeString(tokens, """
          - {token: demo-echo, namespace: default, serviceAccount: echo}
          - {token: demo-client, namespace: default, serviceAccount: demo-client}
          """);
      cp = ControlPlane.start(ControlPlaneOptions.forConfigDir(cluster1).withPorts(0, 0)
          .withRemoteConfigDirs(Map.of("cluster2", cluster2))
          .withCa(new ControlPlaneOptions.Ca(Files.createDirectory(root.resolve("ca")), tokens, 0)));
      out.printf("control plane: xDS on localhost:%d, CA on localhost:%d, status on http://localhost:%d/debug/status%n",
          cp.xdsPort(), cp.securePort(), cp.monitoringPort());
      out.printf("clusters: cluster1 = %s (network-1: echo-a in us-east/zone-a, echo-b in us-east/zone-b)%n", cluster1);
      out.printf("          cluster2 = %s (network-2: echo-west in us-west/zone-c, behind an east-west gateway)%n",
          cluster2);
      gateway = Gateway.start(GatewayOptions.defaults("localhost:" + cp.xdsPort(), "eastwest-1",
          DemoMesh.GATEWAY_ADDRESS).withCluster("cluster2", "network-2")
          .withListen(DemoMesh.GATEWAY_ADDRESS, gatewayPort).withXdsListenerPort(15443).withHealthPort(0));
      out.printf("east-west gateway for network-2 on %s:%d: passes mTLS through by SNI%n", DemoMesh.GATEWAY_ADDRESS,
          gatewayPort);
      for (String[] w : DemoMesh.WORKLOADS) startEcho(w[0], w[4], w[4].equals("cluster1") ? "network-1" : "network-2");
      CertificateManager clientCerts = certificates("demo-client", "cluster1", "network-1");
      Map<String, Object> bootstrap = bootstrap(clientCerts, "demo-client", "cluster1", "network-1",
          "us-east/zone-a");
      System.setProperty("io.grpc.xds.bootstrapConfig", new ObjectMapper().writeValueAsString(bootstrap));
      String target = "xds:///" + DemoMesh.HOST + ":" + DemoMesh.SERVICE_PORT;
      channel = Grpc.newChannelBuilder(target, XdsChannelCredentials.create(InsecureChannelCredentials.create()))
          .build();
      out.printf("client: sa/demo-client in network-1, us-east/zone-a, calling %s over mTLS%n", target);
      // The first call waits for listener → route → cluster → endpoints to arrive over xDS.
      long t0 = System.nanoTime();
      call(channel, 30);
      out.printf("client: first answer after %d ms%n%n", TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0));

      Map<String, Step> story = new LinkedHashMap<>();
      story.put("no routing rules: one service in two clusters and two networks, spread evenly over its 3 endpoints "
          + "(echo-west through network-2's gateway)", () -> { });
      story.put("VirtualService: v1 (cluster1) 80% / v2 (cluster2) 20%", () -> DemoMesh.writeSplit(cluster1, 80, 20));
      story.put("VirtualService changed live: v1 20% / v2 80%", () -> DemoMesh.writeSplit(cluster1, 20, 80));
      story.put("VirtualService removed, outlier detection on: locality failover keeps traffic in zone-a", () -> {
        DemoMesh.removeSplit(cluster1);
        DemoMesh.writeDestinationRule(cluster1, true);
      });
      story.put("echo-a stopped: traffic fails over to the next zone, us-east/zone-b", () -> stopEcho("echo-a"));
      story.put("echo-b stopped: traffic fails over to the other region, cluster2 in us-west", () -> stopEcho("echo-b"));
      story.put("echo-a and echo-b back: traffic returns to zone-a", () -> {
        startEcho("echo-a", "cluster1", "network-1");
        startEcho("echo-b", "cluster1", "network-1");
      });
      // The last step gets two shares: restarted servers take a moment before clients reconnect.
      long stepMillis = Math.max(1000, durationMillis / (story.size() + 1));
      long end = System.currentTimeMillis() + durationMillis;
      int index = 0;
      for (Map.Entry<String, Step> step : story.entrySet()) {
        if (System.currentTimeMillis() >= end || Thread.currentThread().isInterrupted()) break;
        step.getValue().apply();
        out.printf("== %s%n", step.getKey());
        boolean last = ++index == story.size();
        long stepEnd = last ? end : Math.min(end, System.currentTimeMillis() + stepMillis);
        while (System.currentTimeMillis() < stepEnd) out.println("   " + oneSecond(channel));
      }
      out.printf("connections through network-2's east-west gateway: %d%n", gateway.stats().total());
      out.println("demo finished");
      return 0;
    } catch (InterruptedException e) {
      out.println("demo interrupted");
      return 0;
    } finally {
      if (channel != null) channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      for (Server s : servers.values()) s.shutdownNow();
      for (CertificateManager c : certificates.values()) c.close();
      if (gateway != null) gateway.close();
      if (cp != null) cp.close();
      deleteTree(root);
    }
  }

  /** An echo workload as an xDS server with its own certificate: mTLS is what lets it cross networks. */
  private void startEcho(String name, String cluster, String network) throws Exception {
    CertificateManager certs = certificates.containsKey(name) ? certificates.get(name)
        : certificates("echo", cluster, network);
    certificates.put(name, certs);
    Server server = XdsServerBuilder.forPort(ports.get(name),
            XdsServerCredentials.create(InsecureServerCredentials.create()))
        .overrideBootstrapForTest(bootstrap(certs, name, cluster, network, ""))
        .addService(EchoService.named(name))
        .build()
        .start();
    servers.put(name, server);
  }

  private void stopEcho(String name) {
    Server s = servers.remove(name);
    if (s != null) s.shutdownNow();
  }

  /** What the agent does for a workload: its own key, a certificate for its identity, renewed. */
  private CertificateManager certificates(String serviceAccount, String cluster, String network) throws Exception {
    WorkloadIdentity id = identity(serviceAccount, serviceAccount, cluster, network, "");
    CaClient ca = new CaClient("localhost:" + cp.securePort(), "istiod.istio-system.svc",
        TrustRoots.of(cp.ca().roots()), () -> serviceAccount.equals("echo") ? "demo-echo" : "demo-client", cluster);
    CertificateManager certs = CertificateManager.builder(id.spiffeId(), ca, TrustRoots.of(cp.ca().roots()),
        new CertificateFiles(Files.createTempDirectory("weft-demo-certs"))).ttl(java.time.Duration.ofHours(1))
        .scheduler(java.util.concurrent.Executors.newSingleThreadScheduledExecutor(r -> {
          Thread t = new Thread(r, "weft-demo-certs");
          t.setDaemon(true);
          return t;
        })).build();
    certs.start();
    certs.awaitFirstCertificate(java.time.Duration.ofSeconds(20));
    return certs;
  }

  private static WorkloadIdentity identity(String serviceAccount, String pod, String cluster, String network,
      String locality) {
    return WorkloadIdentity.builder().trustDomain("cluster.local").namespace("default").serviceAccount(serviceAccount)
        .podName(pod).ip("127.0.0.1").clusterId(cluster).network(network).locality(locality)
        .labels(Map.of("app", serviceAccount, "security.istio.io/tlsMode", "istio")).build();
  }

  private Map<String, Object> bootstrap(CertificateManager certs, String pod, String cluster, String network,
      String locality) {
    CertificateFiles f = certs.files();
    String sa = pod.equals("demo-client") ? "demo-client" : "echo";
    return XdsBootstrap.builder().xdsServer("localhost:" + cp.xdsPort(), XdsTransport.PLAINTEXT)
        .identity(identity(sa, pod, cluster, network, locality))
        .certificateFiles(f.certificateChainFile(), f.privateKeyFile(), f.rootCertificateFile())
        .build().toMap();
  }

  private static String call(ManagedChannel channel, int timeoutSeconds) {
    // Calls wait for a ready endpoint rather than fail while the client moves between localities.
    return ClientCalls.blockingUnaryCall(channel, EchoService.WHO, CallOptions.DEFAULT.withWaitForReady()
        .withDeadlineAfter(timeoutSeconds, TimeUnit.SECONDS), StringValue.of("hi")).getValue();
  }

  /** Calls as fast as it can for one second; returns the answers per endpoint and their share. */
  private static String oneSecond(ManagedChannel channel) throws InterruptedException {
    Map<String, Integer> counts = new TreeMap<>();
    int failed = 0;
    long stop = System.nanoTime() + TimeUnit.SECONDS.toNanos(1);
    while (System.nanoTime() < stop) {
      try {
        counts.merge(call(channel, 5), 1, Integer::sum);
      } catch (io.grpc.StatusRuntimeException e) {
        failed++;
      }
      if (Thread.currentThread().isInterrupted()) throw new InterruptedException();
    }
    int total = counts.values().stream().mapToInt(Integer::intValue).sum();
    StringBuilder b = new StringBuilder();
    for (String name : List.of("echo-a", "echo-b", "echo-west")) {
      int v = counts.getOrDefault(name, 0);
      b.append(String.format("%-9s %3d%%  ", name, total == 0 ? 0 : Math.round(100.0 * v / total)));
    }
    b.append(String.format("(%d calls", total));
    if (failed > 0) b.append(", ").append(failed).append(" failed");
    return b.append(')').toString();
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 50, java.net.InetAddress.getByName("127.0.0.1"))) {
      return s.getLocalPort();
    }
  }

  private static void deleteTree(Path dir) throws IOException {
    try (var files = Files.walk(dir)) {
      for (Path p : files.sorted(java.util.Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
    }
  }
}
