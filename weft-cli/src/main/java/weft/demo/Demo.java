package weft.demo;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.protobuf.StringValue;
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
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import weft.controlplane.ControlPlane;
import weft.controlplane.ControlPlaneOptions;

/**
 * {@code weft demo}: a control plane on a generated config, three echo servers, and a proxyless
 * gRPC client calling {@code xds:///echo.default.svc.cluster.local:9080}. It prints which endpoint
 * answered each second, then changes the VirtualService split live and shows traffic move.
 */
public final class Demo {
  private final PrintStream out;
  private final long durationMillis;

  public Demo(PrintStream out, long durationSeconds) {
    this.out = out;
    this.durationMillis = durationSeconds * 1000;
  }

  /** Runs until the duration has passed or the thread is interrupted (Ctrl-C). Returns 0 on success. */
  public int run() throws Exception {
    Path dir = Files.createTempDirectory("weft-demo");
    List<Server> servers = new ArrayList<>();
    ControlPlane cp = null;
    ManagedChannel channel = null;
    try {
      int port = freePort();
      DemoMesh.write(dir, port);
      for (String[] w : DemoMesh.WORKLOADS) {
        servers.add(NettyServerBuilder.forAddress(new InetSocketAddress(w[1], port))
            .addService(EchoService.named(w[0])).build().start());
      }
      cp = ControlPlane.start(ControlPlaneOptions.forConfigDir(dir).withPorts(0, 0));
      out.printf("control plane: xDS on localhost:%d, status on http://localhost:%d/debug/status%n",
          cp.xdsPort(), cp.monitoringPort());
      out.printf("config folder: %s (edit it: changes apply live)%n", dir);
      Map<String, Object> bootstrap = GrpcBootstrap.of("localhost:" + cp.xdsPort(), "demo-client", "default",
          "127.0.0.1", "cluster1", "", Map.of("app", "demo-client"));
      System.setProperty("io.grpc.xds.bootstrapConfig", new ObjectMapper().writeValueAsString(bootstrap));
      String target = "xds:///" + DemoMesh.HOST + ":" + DemoMesh.SERVICE_PORT;
      channel = Grpc.newChannelBuilder(target, InsecureChannelCredentials.create()).build();
      out.printf("client: calling %s%n", target);
      // The first call waits for listener → route → cluster → endpoints to arrive over xDS.
      long t0 = System.nanoTime();
      ClientCalls.blockingUnaryCall(channel, EchoService.WHO,
          io.grpc.CallOptions.DEFAULT.withWaitForReady().withDeadlineAfter(30, TimeUnit.SECONDS), StringValue.of("hi"));
      out.printf("client: first answer after %d ms%n%n", TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0));
      long end = System.currentTimeMillis() + durationMillis;
      int phase = 0;
      long phaseLength = Math.max(1000, durationMillis / 4);
      long nextPhase = System.currentTimeMillis();
      String label = "";
      while (System.currentTimeMillis() < end && !Thread.currentThread().isInterrupted()) {
        if (System.currentTimeMillis() >= nextPhase) {
          switch (phase++) {
            case 0 -> label = "no VirtualService: round robin over 3 endpoints";
            case 1 -> {
              DemoMesh.writeSplit(dir, 80, 20);
              label = "VirtualService: v1 80% / v2 20%";
            }
            case 2 -> {
              DemoMesh.writeSplit(dir, 20, 80);
              label = "VirtualService changed live: v1 20% / v2 80%";
            }
            default -> {
              DemoMesh.writeSplit(dir, 0, 100);
              label = "VirtualService changed live: all to v2";
            }
          }
          out.printf("== %s%n", label);
          nextPhase += phaseLength;
        }
        out.println("   " + oneSecond(channel));
      }
      out.println("demo finished");
      return 0;
    } catch (InterruptedException e) {
      out.println("demo interrupted");
      return 0;
    } finally {
      if (channel != null) channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      for (Server s : servers) s.shutdownNow();
      if (cp != null) cp.close();
      deleteTree(dir);
    }
  }

  /** Calls as fast as it can for one second; returns the answers per endpoint and their share. */
  private static String oneSecond(ManagedChannel channel) throws InterruptedException {
    Map<String, Integer> counts = new TreeMap<>();
    int failed = 0;
    long stop = System.nanoTime() + TimeUnit.SECONDS.toNanos(1);
    while (System.nanoTime() < stop) {
      try {
        StringValue who = ClientCalls.blockingUnaryCall(channel, EchoService.WHO,
            io.grpc.CallOptions.DEFAULT.withDeadlineAfter(2, TimeUnit.SECONDS), StringValue.of("hi"));
        counts.merge(who.getValue(), 1, Integer::sum);
      } catch (io.grpc.StatusRuntimeException e) {
        failed++;
        Thread.sleep(50);
      }
      if (Thread.currentThread().isInterrupted()) throw new InterruptedException();
    }
    int total = counts.values().stream().mapToInt(Integer::intValue).sum();
    StringBuilder b = new StringBuilder();
    counts.forEach((k, v) -> b.append(String.format("%s %3d%%  ", k, total == 0 ? 0 : Math.round(100.0 * v / total))));
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
