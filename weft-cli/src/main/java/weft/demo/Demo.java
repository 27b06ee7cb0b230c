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
import weft.controlplane.ControlPlane;
import weft.controlplane.ControlPlaneOptions;

/**
 * {@code weft demo}: a control plane on a generated config of two clusters, three echo servers,
 * and a proxyless gRPC client in us-east/zone-a calling
 * {@code xds:///echo.default.svc.cluster.local:9080}. Each second it prints which endpoint
 * answered while the demo shifts traffic live: across clusters, by VirtualService weights, then
 * by locality failover as endpoints stop and come back.
 */
public final class Demo {
  private final PrintStream out;
  private final long durationMillis;
  private final Map<String, Server> servers = new LinkedHashMap<>();
  private int port;

  public Demo(PrintStream out, long durationSeconds) {
    this.out = out;
    this.durationMillis = durationSeconds * 1000;
  }

  /** One step of the story: what it does to the mesh, and what the client should then see. */
  private interface Step {
    void apply() throws IOException;
  }

  /** Runs until the duration has passed or the thread is interrupted (Ctrl-C). Returns 0 on success. */
  public int run() throws Exception {
    Path root = Files.createTempDirectory("weft-demo");
    Path cluster1 = Files.createDirectory(root.resolve("cluster1"));
    Path cluster2 = Files.createDirectory(root.resolve("cluster2"));
    ControlPlane cp = null;
    ManagedChannel channel = null;
    try {
      port = freePort();
      DemoMesh.write(cluster1, cluster2, port);
      DemoMesh.writeDestinationRule(cluster1, false);
      for (String[] w : DemoMesh.WORKLOADS) startEcho(w[0], w[1]);
      cp = ControlPlane.start(ControlPlaneOptions.forConfigDir(cluster1).withPorts(0, 0)
          .withRemoteConfigDirs(Map.of("cluster2", cluster2)));
      out.printf("control plane: xDS on localhost:%d, status on http://localhost:%d/debug/status%n",
          cp.xdsPort(), cp.monitoringPort());
      out.printf("clusters: cluster1 = %s (echo-a in us-east/zone-a, echo-b in us-east/zone-b)%n", cluster1);
      out.printf("          cluster2 = %s (echo-west in us-west/zone-c); edit them: changes apply live%n", cluster2);
      Map<String, Object> bootstrap = GrpcBootstrap.of("localhost:" + cp.xdsPort(), "demo-client", "default",
          "127.0.0.1", "cluster1", "", Map.of("app", "demo-client"), "us-east/zone-a");
      System.setProperty("io.grpc.xds.bootstrapConfig", new ObjectMapper().writeValueAsString(bootstrap));
      String target = "xds:///" + DemoMesh.HOST + ":" + DemoMesh.SERVICE_PORT;
      channel = Grpc.newChannelBuilder(target, InsecureChannelCredentials.create()).build();
      out.printf("client: in us-east/zone-a, calling %s%n", target);
      // The first call waits for listener → route → cluster → endpoints to arrive over xDS.
      long t0 = System.nanoTime();
      call(channel, 30);
      out.printf("client: first answer after %d ms%n%n", TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0));

      Map<String, Step> story = new LinkedHashMap<>();
      story.put("no routing rules: one service in two clusters, spread evenly over its 3 endpoints", () -> { });
      story.put("VirtualService: v1 (cluster1) 80% / v2 (cluster2) 20%", () -> DemoMesh.writeSplit(cluster1, 80, 20));
      story.put("VirtualService changed live: v1 20% / v2 80%", () -> DemoMesh.writeSplit(cluster1, 20, 80));
      story.put("VirtualService removed, outlier detection on: locality failover keeps traffic in zone-a", () -> {
        DemoMesh.removeSplit(cluster1);
        DemoMesh.writeDestinationRule(cluster1, true);
      });
      story.put("echo-a stopped: traffic fails over to the next zone, us-east/zone-b", () -> stopEcho("echo-a"));
      story.put("echo-b stopped: traffic fails over to the other region, cluster2 in us-west", () -> stopEcho("echo-b"));
      story.put("echo-a and echo-b back: traffic returns to zone-a", () -> {
        startEcho("echo-a", "127.0.0.1");
        startEcho("echo-b", "127.0.0.2");
      });
      long stepMillis = Math.max(1000, durationMillis / story.size());
      long end = System.currentTimeMillis() + durationMillis;
      for (Map.Entry<String, Step> step : story.entrySet()) {
        if (System.currentTimeMillis() >= end || Thread.currentThread().isInterrupted()) break;
        step.getValue().apply();
        out.printf("== %s%n", step.getKey());
        long stepEnd = Math.min(end, System.currentTimeMillis() + stepMillis);
        while (System.currentTimeMillis() < stepEnd) out.println("   " + oneSecond(channel));
      }
      out.println("demo finished");
      return 0;
    } catch (InterruptedException e) {
      out.println("demo interrupted");
      return 0;
    } finally {
      if (channel != null) channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      for (Server s : servers.values()) s.shutdownNow();
      if (cp != null) cp.close();
      deleteTree(root);
    }
  }

  private void startEcho(String name, String address) throws IOException {
    servers.put(name, NettyServerBuilder.forAddress(new InetSocketAddress(address, port))
        .addService(EchoService.named(name)).build().start());
  }

  private void stopEcho(String name) {
    Server s = servers.remove(name);
    if (s != null) s.shutdownNow();
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
