package weft.bench;

import com.google.protobuf.StringValue;
import io.grpc.CallOptions;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.InsecureServerCredentials;
import io.grpc.ManagedChannel;
import io.grpc.NameResolverRegistry;
import io.grpc.Server;
import io.grpc.stub.ClientCalls;
import io.grpc.xds.XdsNameResolverProvider;
import io.grpc.xds.XdsServerBuilder;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import weft.agent.xdsproxy.XdsProxy;
import weft.demo.EchoService;
import weft.demo.GrpcBootstrap;

/**
 * Control-plane failover as a workload behind {@code weft agent --xds-proxy-port} sees it: two
 * control planes in their own JVMs on one config folder, a proxyless client calling a proxyless
 * server without pause, each through a proxy of its own. Each round kills (SIGKILL) the control plane
 * the client's proxy uses and times kill → the proxy's new upstream stream answering, then restarts
 * the killed one on its old port. Reports p50/p99/max over the rounds and the failed calls.
 */
public final class FailoverBench {
  private static final int SERVICE_PORT = 9080;

  public static void main(String[] args) throws Exception {
    int kills = 20;
    for (int i = 0; i + 1 < args.length; i += 2) {
      if (!args[i].equals("--kills")) throw new IllegalArgumentException("unknown option " + args[i]);
      kills = Integer.parseInt(args[i + 1]);
    }
    Path dir = Files.createTempDirectory("weft-bench-failover");
    int serverPort = freePort();
    Files.writeString(dir.resolve("echo.yaml"), """
        apiVersion: v1
        kind: Service
        metadata: {name: echo, namespace: default}
        spec:
          selector: {app: echo}
          clusterIP: 10.96.0.10
          ports: [{name: grpc, port: %d, targetPort: %d}]
        ---
        apiVersion: discovery.k8s.io/v1
        kind: EndpointSlice
        metadata: {name: echo-1, namespace: default, labels: {kubernetes.io/service-name: echo}}
        addressType: IPv4
        ports: [{name: grpc, port: %d}]
        endpoints: [{addresses: ["127.0.0.1"], conditions: {ready: true}}]
        """.formatted(SERVICE_PORT, serverPort, serverPort));
    Plane[] planes = {new Plane(dir, freePort(), freePort()), new Plane(dir, freePort(), freePort())};
    for (Plane p : planes) p.start();
    List<String> upstreams = List.of(planes[0].address(), planes[1].address());

    XdsProxy serverProxy = XdsProxy.builder().upstreams(upstreams).start();
    Server server = XdsServerBuilder.forPort(serverPort, InsecureServerCredentials.create())
        .overrideBootstrapForTest(GrpcBootstrap.of("127.0.0.1:" + serverProxy.port(), "echo-1", "default",
            "127.0.0.1", "cluster1", "", Map.of("app", "echo")))
        .addService(EchoService.named("echo-1")).build().start();
    XdsProxy clientProxy = XdsProxy.builder().upstreams(upstreams).start();
    NameResolverRegistry.getDefaultRegistry().register(XdsNameResolverProvider.createForTest("xds-bench",
        GrpcBootstrap.of("127.0.0.1:" + clientProxy.port(), "client-1", "default", "127.0.0.9", "cluster1", "",
            Map.of("app", "client"))));
    ManagedChannel client = Grpc.newChannelBuilder("xds-bench:///echo.default.svc.cluster.local:" + SERVICE_PORT,
        InsecureChannelCredentials.create()).build();
    call(client); // the first call waits for config

    AtomicLong ok = new AtomicLong();
    AtomicLong failed = new AtomicLong();
    ScheduledExecutorService caller = Executors.newSingleThreadScheduledExecutor();
    caller.scheduleWithFixedDelay(() -> {
      try {
        call(client);
        ok.incrementAndGet();
      } catch (RuntimeException e) {
        failed.incrementAndGet();
        System.out.println("failed call: " + e);
      }
    }, 0, 1, TimeUnit.MILLISECONDS);

    List<Long> reconnects = new ArrayList<>();
    List<Long> failovers = new ArrayList<>();
    for (int round = 1; round <= kills; round++) {
      Plane dying = awaitConnected(clientProxy, planes);
      Plane other = dying == planes[0] ? planes[1] : planes[0];
      long t0 = System.nanoTime();
      dying.kill();
      while (!clientProxy.connectedTo().equals(List.of(other.address()))) Thread.sleep(1);
      long reconnected = System.nanoTime() - t0;
      while (!(clientProxy.connectedTo().equals(List.of(other.address())) && clientProxy.answering())) {
        Thread.sleep(1);
      }
      long answered = System.nanoTime() - t0;
      reconnects.add(reconnected);
      failovers.add(answered);
      System.out.printf("kill %d: %s -> %s, stream open in %d ms, answered in %d ms (calls ok %d, failed %d)%n",
          round, dying.address(), other.address(), Stats.ms(reconnected), Stats.ms(answered), ok.get(), failed.get());
      dying.start();
      warm(dying, round);
    }
    caller.shutdown(); // lets the call in flight finish: an interrupted call is no failover's fault
    caller.awaitTermination(60, TimeUnit.SECONDS);
    System.out.printf("over %d kills: kill -9 -> new upstream stream open p50 %.0f ms, p99 %.0f ms, max %.0f ms; "
        + "-> new control plane answered p50 %.0f ms, p99 %.0f ms, max %.0f ms; calls ok %d, failed %d%n",
        failovers.size(), Stats.pct(reconnects, 50), Stats.pct(reconnects, 99), Stats.pct(reconnects, 100),
        Stats.pct(failovers, 50), Stats.pct(failovers, 99), Stats.pct(failovers, 100), ok.get(), failed.get());
    client.shutdownNow();
    server.shutdownNow();
    clientProxy.close();
    serverProxy.close();
    for (Plane p : planes) p.kill();
  }

  /**
   * A control plane that has just started generates its first responses in a cold JVM, many times
   * slower than later ones; production control planes run for days. One proxyless call through a
   * proxy of its own makes it build every kind of resource once before it is measured.
   */
  private static void warm(Plane plane, int round) {
    XdsProxy proxy = XdsProxy.builder().upstreams(List.of(plane.address())).start();
    String scheme = "xds-warm-" + round;
    NameResolverRegistry.getDefaultRegistry().register(XdsNameResolverProvider.createForTest(scheme,
        GrpcBootstrap.of("127.0.0.1:" + proxy.port(), "warm-" + round, "default", "127.0.0.8", "cluster1", "",
            Map.of("app", "warm"))));
    ManagedChannel channel = Grpc.newChannelBuilder(scheme + ":///echo.default.svc.cluster.local:" + SERVICE_PORT,
        InsecureChannelCredentials.create()).build();
    try {
      call(channel);
    } finally {
      channel.shutdownNow();
      proxy.close();
    }
  }

  private static Plane awaitConnected(XdsProxy proxy, Plane[] planes) throws InterruptedException {
    while (true) {
      for (Plane p : planes) {
        if (proxy.answering() && proxy.connectedTo().equals(List.of(p.address()))) return p;
      }
      Thread.sleep(1);
    }
  }

  private static void call(ManagedChannel channel) {
    ClientCalls.blockingUnaryCall(channel, EchoService.WHO, CallOptions.DEFAULT.withDeadlineAfter(30, TimeUnit.SECONDS),
        StringValue.of("hi"));
  }

  private static int freePort() throws Exception {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  /** One {@code weft control-plane} JVM on fixed ports, so that it comes back where the proxies look. */
  private static final class Plane {
    private final Path dir;
    private final int xdsPort;
    private final int monitoringPort;
    private Process process;

    Plane(Path dir, int xdsPort, int monitoringPort) {
      this.dir = dir;
      this.xdsPort = xdsPort;
      this.monitoringPort = monitoringPort;
    }

    String address() {
      return "127.0.0.1:" + xdsPort;
    }

    void start() throws Exception {
      Path java = Path.of(System.getProperty("java.home"), "bin", "java");
      process = new ProcessBuilder(java.toString(), "-Xmx512m", "-cp", System.getProperty("java.class.path"),
          "weft.cli.Main", "control-plane", "--config-dir", dir.toString(), "--xds-port", String.valueOf(xdsPort),
          "--monitoring-port", String.valueOf(monitoringPort))
          .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
      HttpClient http = HttpClient.newHttpClient();
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
      while (System.nanoTime() < deadline) {
        if (!process.isAlive()) throw new IllegalStateException("control plane exited with " + process.exitValue());
        try {
          if (http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + monitoringPort + "/ready")).build(),
              HttpResponse.BodyHandlers.discarding()).statusCode() == 200) return;
        } catch (java.io.IOException notYet) {
          // not listening yet
        }
        Thread.sleep(50);
      }
      throw new IllegalStateException("control plane on " + address() + " not ready in 120 s");
    }

    /** SIGKILL, as {@code kill -9}: no goodbye to any stream. */
    void kill() throws InterruptedException {
      process.destroyForcibly();
      process.waitFor();
    }
  }
}
