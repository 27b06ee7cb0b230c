package weft.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.google.protobuf.StringValue;
import io.grpc.CallOptions;
import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.InsecureServerCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.NameResolverRegistry;
import io.grpc.Server;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.ServerServiceDefinition;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.ServerCalls;
import io.grpc.xds.XdsNameResolverProvider;
import io.grpc.xds.XdsServerBuilder;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import weft.agent.xdsproxy.XdsProxy;
import weft.controlplane.ControlPlane;
import weft.controlplane.ControlPlaneOptions;
import weft.demo.EchoService;
import weft.demo.GrpcBootstrap;

/**
 * Several control planes, one mesh, workloads that move (issue 13, item 4): two control planes on the
 * same config; a proxyless client and a proxyless server each behind the agent's local xDS proxy; the
 * control plane the client's proxy uses is shut down hard while the client calls the server without
 * pause. No call fails, and an endpoint added after the stop reaches the client through the other
 * control plane. Then the first comes back, the second goes: the same again.
 */
class ControlPlaneFailoverTest {
  private static final String HOST = "echo.default.svc.cluster.local";
  private static final int SERVICE_PORT = 9080;
  private static final Duration LIVENESS = Duration.ofSeconds(90);
  /** The address a call arrived at: the server listens on every loopback address, endpoints differ by it. */
  private static final Context.Key<String> LOCAL = Context.key("local-address");

  private final List<AutoCloseable> toClose = new ArrayList<>();
  private final ControlPlaneSlot[] planes = new ControlPlaneSlot[2];

  @AfterEach
  void stop() {
    for (int i = toClose.size() - 1; i >= 0; i--) {
      try {
        toClose.get(i).close();
      } catch (Exception e) {
        // best effort: the next test starts from nothing of this one's
      }
    }
    for (ControlPlaneSlot p : planes) {
      if (p != null) p.stop();
    }
  }

  @Test
  void aClientBehindTheProxyLosesNoCallAndFollowsEndpointChangesWhenItsControlPlaneDies() throws Exception {
    int serverPort = Mesh.freePort();
    for (int i = 0; i < 2; i++) {
      planes[i] = new ControlPlaneSlot(Files.createTempDirectory("weft-failover-" + i), Mesh.freePort());
    }
    writeEverywhere("echo.yaml", echoConfig(serverPort, "127.0.0.1"));
    for (ControlPlaneSlot p : planes) p.start();
    List<String> upstreams = List.of(planes[0].address(), planes[1].address());

    startServer(upstreams, serverPort);

    XdsProxy clientProxy = XdsProxy.builder().upstreams(upstreams).start();
    toClose.add(clientProxy);
    String scheme = "xds-failover";
    NameResolverRegistry.getDefaultRegistry().register(XdsNameResolverProvider.createForTest(scheme,
        GrpcBootstrap.of("127.0.0.1:" + clientProxy.port(), "client-1", "default", "127.0.0.9", "cluster1", "",
            Map.of("app", "client"))));
    ManagedChannel client = Grpc.newChannelBuilder(scheme + ":///" + HOST + ":" + SERVICE_PORT,
        InsecureChannelCredentials.create()).build();
    toClose.add(() -> client.shutdownNow().awaitTermination(5, TimeUnit.SECONDS));

    Traffic traffic = new Traffic(client);
    toClose.add(traffic);
    await().atMost(LIVENESS).until(() -> traffic.seen.contains("127.0.0.1"));

    String[] endpoints = {"127.0.0.1", "127.0.0.3", "127.0.0.4"};
    for (int round = 1; round <= 2; round++) {
      ControlPlaneSlot dying = slotOf(clientProxy);
      ControlPlaneSlot other = planes[dying == planes[0] ? 1 : 0];
      if (!other.running()) other.start(); // round 2: the first comes back before the second goes
      int before = traffic.ok.get();
      dying.stop();
      await().atMost(LIVENESS).until(() -> clientProxy.connectedTo().equals(List.of(other.address()))
          && clientProxy.answering());

      writeEverywhere("echo.yaml", echoConfig(serverPort, java.util.Arrays.copyOfRange(endpoints, 0, round + 1)));
      String added = endpoints[round];
      await().atMost(LIVENESS).until(() -> traffic.seen.contains(added));
      assertThat(traffic.ok.get()).isGreaterThan(before);
      assertThat(traffic.failures).as("calls that failed, round " + round).isEmpty();
      assertThat(clientProxy.workloadStreams()).as("the client's own xDS stream never broke").isEqualTo(1);
    }
  }

  /**
   * Issue 13, item 6: a control plane that dies affects only the workloads connected to it, and only
   * until they reconnect. Client A's proxy is on the control plane that dies; client B's is on the
   * other. B's stream there is never replaced and none of its calls fails; A's calls do not fail
   * either, and {@code weft proxy-status} on the survivor shows A arriving beside B.
   */
  @Test
  void aDeadControlPlaneDisturbsOnlyItsOwnWorkloadsAndTheSurvivorShowsThemArriving() throws Exception {
    int serverPort = Mesh.freePort();
    for (int i = 0; i < 2; i++) {
      planes[i] = new ControlPlaneSlot(Files.createTempDirectory("weft-scope-" + i), Mesh.freePort());
    }
    writeEverywhere("echo.yaml", echoConfig(serverPort, "127.0.0.1"));
    for (ControlPlaneSlot p : planes) p.start();
    List<String> both = List.of(planes[0].address(), planes[1].address());
    startServer(both, serverPort);

    XdsProxy proxyA = XdsProxy.builder().upstreams(both).start();
    toClose.add(proxyA);
    Traffic a = new Traffic(client("xds-scope-a", proxyA, "client-a", "127.0.0.11"));
    toClose.add(a);
    ControlPlaneSlot dying = slotOf(proxyA);
    ControlPlaneSlot survivor = planes[dying == planes[0] ? 1 : 0];
    XdsProxy proxyB = XdsProxy.builder().upstreams(List.of(survivor.address())).start();
    toClose.add(proxyB);
    Traffic b = new Traffic(client("xds-scope-b", proxyB, "client-b", "127.0.0.12"));
    toClose.add(b);
    await().atMost(LIVENESS).until(() -> a.ok.get() > 0 && b.ok.get() > 0);

    String before = proxyStatus(survivor);
    assertThat(before).contains("client-b.default").doesNotContain("client-a.default");
    long bConnectedAt = connectedAt(survivor, "client-b.default");
    int aBefore = a.ok.get();
    int bBefore = b.ok.get();

    dying.stop();
    await().atMost(LIVENESS).until(() -> proxyStatus(survivor).contains("client-a.default"));
    await().atMost(LIVENESS).until(() -> a.ok.get() > aBefore + 10 && b.ok.get() > bBefore + 10);
    assertThat(connectedAt(survivor, "client-b.default")).as("B's stream on the survivor was never replaced")
        .isEqualTo(bConnectedAt);
    assertThat(proxyB.connectedTo()).containsExactly(survivor.address());
    assertThat(b.failures).as("calls of the workload on the survivor that failed").isEmpty();
    assertThat(a.failures).as("calls of the moved workload that failed").isEmpty();
    assertThat(proxyA.workloadStreams()).isEqualTo(1);
    assertThat(proxyB.workloadStreams()).isEqualTo(1);
  }

  /**
   * Delta through the proxy, as Envoy speaks it: when its control plane dies, the workload's stream
   * stays open, it is sent nothing it already holds and no removal, and an endpoint change made after
   * the death reaches it through the other control plane as that one assignment alone.
   */
  @Test
  void aDeltaStreamBehindTheProxyKeepsItsConfigAndGetsOnlyRealChangesWhenItsControlPlaneDies() throws Exception {
    int serverPort = Mesh.freePort();
    for (int i = 0; i < 2; i++) {
      planes[i] = new ControlPlaneSlot(Files.createTempDirectory("weft-delta-" + i), Mesh.freePort());
    }
    writeEverywhere("echo.yaml", echoConfig(serverPort, "127.0.0.1"));
    for (ControlPlaneSlot p : planes) p.start();
    XdsProxy proxy = XdsProxy.builder().upstreams(List.of(planes[0].address(), planes[1].address())).start();
    toClose.add(proxy);
    String cds = "type.googleapis.com/envoy.config.cluster.v3.Cluster";
    String eds = "type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment";
    String cluster = "outbound|" + SERVICE_PORT + "||" + HOST;
    DeltaAdsClient envoy = new DeltaAdsClient(proxy.port(), AdsStream.node("envoy-1", "default", "127.0.0.21",
        "cluster1", "", "", false));
    toClose.add(envoy);
    envoy.subscribe(cds);
    await().atMost(LIVENESS).until(() -> envoy.responses.stream().anyMatch(r -> r.getTypeUrl().equals(cds)
        && r.getResourcesList().stream().anyMatch(res -> res.getName().equals(cluster))));
    envoy.subscribe(eds, cluster);
    await().atMost(LIVENESS).until(() -> envoy.responses.stream().anyMatch(r -> r.getTypeUrl().equals(eds)));
    int mark = envoy.responses.size();

    ControlPlaneSlot dying = slotOf(proxy);
    ControlPlaneSlot other = planes[dying == planes[0] ? 1 : 0];
    dying.stop();
    await().atMost(LIVENESS).until(() -> proxy.connectedTo().equals(List.of(other.address())) && proxy.answering());
    writeEverywhere("echo.yaml", echoConfig(serverPort, "127.0.0.1", "127.0.0.3"));
    await().atMost(LIVENESS).until(() -> envoy.responses.subList(mark, envoy.responses.size()).stream()
        .anyMatch(r -> r.getResourcesList().stream().anyMatch(res -> endpointsOf(res).contains("127.0.0.3"))));

    List<io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryResponse> after =
        envoy.responses.subList(mark, envoy.responses.size());
    assertThat(after).as("after the failover: only the changed assignment, no removal").allSatisfy(r -> {
      assertThat(r.getTypeUrl()).isEqualTo(eds);
      assertThat(r.getRemovedResourcesList()).isEmpty();
      assertThat(r.getResourcesList()).extracting(io.envoyproxy.envoy.service.discovery.v3.Resource::getName)
          .containsExactly(cluster);
    });
    assertThat(envoy.errors).isEmpty();
    assertThat(proxy.workloadStreams()).isEqualTo(1);
  }

  /**
   * A type no control plane answers (Weft ignores types it does not serve) must neither leave the
   * workload stuck nor make the proxy switch back and forth: it costs one switch, then the proxy stays,
   * and the workload's other config keeps flowing.
   */
  @Test
  void aTypeNoControlPlaneAnswersCostsTheProxyOneSwitchAndTheRestKeepsFlowing() throws Exception {
    int serverPort = Mesh.freePort();
    for (int i = 0; i < 2; i++) {
      planes[i] = new ControlPlaneSlot(Files.createTempDirectory("weft-unanswered-" + i), Mesh.freePort());
    }
    writeEverywhere("echo.yaml", echoConfig(serverPort, "127.0.0.1"));
    for (ControlPlaneSlot p : planes) p.start();
    XdsProxy proxy = XdsProxy.builder().upstreams(List.of(planes[0].address(), planes[1].address()))
        .responseTimeout(Duration.ofSeconds(1)).start();
    toClose.add(proxy);
    String cds = "type.googleapis.com/envoy.config.cluster.v3.Cluster";
    String unserved = "type.googleapis.com/envoy.config.route.v3.ScopedRouteConfiguration";
    DeltaAdsClient envoy = new DeltaAdsClient(proxy.port(), AdsStream.node("envoy-2", "default", "127.0.0.22",
        "cluster1", "", "", false));
    toClose.add(envoy);
    envoy.subscribe(cds);
    await().atMost(LIVENESS).until(() -> envoy.responses.stream().anyMatch(r -> r.getTypeUrl().equals(cds)));
    envoy.subscribe(unserved, "scoped-routes");
    await().atMost(LIVENESS).until(() -> proxy.typesNotAwaited().contains(unserved));
    assertThat(proxy.upstreamStreamsOpened()).as("the first stream and one switch").isEqualTo(2);

    int mark = envoy.responses.size();
    String added = "outbound|" + SERVICE_PORT + "||other.default.svc.cluster.local";
    writeEverywhere("other.yaml", Yamls.service("other", "default", SERVICE_PORT, serverPort, null));
    await().atMost(LIVENESS).until(() -> envoy.responses.subList(mark, envoy.responses.size()).stream()
        .anyMatch(r -> r.getResourcesList().stream().anyMatch(res -> res.getName().equals(added))));
    assertThat(proxy.upstreamStreamsOpened()).as("no switching back and forth").isEqualTo(2);
    assertThat(envoy.errors).isEmpty();
  }

  private static String endpointsOf(io.envoyproxy.envoy.service.discovery.v3.Resource res) {
    try {
      return res.getResource().unpack(io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment.class).toString();
    } catch (com.google.protobuf.InvalidProtocolBufferException e) {
      return "";
    }
  }

  /** An xDS server for echo behind a proxy of its own, serving once it has its listener. */
  private void startServer(List<String> upstreams, int serverPort) throws Exception {
    XdsProxy serverProxy = XdsProxy.builder().upstreams(upstreams).start();
    toClose.add(serverProxy);
    CountDownLatch serving = new CountDownLatch(1);
    Server server = XdsServerBuilder.forPort(serverPort, InsecureServerCredentials.create())
        .overrideBootstrapForTest(GrpcBootstrap.of("127.0.0.1:" + serverProxy.port(), "echo-1", "default",
            "127.0.0.1", "cluster1", "", Map.of("app", "echo")))
        .addService(whereCalled())
        .xdsServingStatusListener(new XdsServerBuilder.XdsServingStatusListener() {
          @Override
          public void onServing() {
            serving.countDown();
          }

          @Override
          public void onNotServing(Throwable t) {}
        })
        .build().start();
    toClose.add(() -> server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS));
    assertThat(serving.await(LIVENESS.toSeconds(), TimeUnit.SECONDS)).as("the xDS server got its listener").isTrue();
  }

  /** A proxyless client of echo behind {@code proxy}, under its own resolver scheme. */
  private ManagedChannel client(String scheme, XdsProxy proxy, String pod, String ip) {
    NameResolverRegistry.getDefaultRegistry().register(XdsNameResolverProvider.createForTest(scheme,
        GrpcBootstrap.of("127.0.0.1:" + proxy.port(), pod, "default", ip, "cluster1", "", Map.of("app", pod))));
    ManagedChannel channel = Grpc.newChannelBuilder(scheme + ":///" + HOST + ":" + SERVICE_PORT,
        InsecureChannelCredentials.create()).build();
    toClose.add(() -> channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS));
    return channel;
  }

  /** What the operator runs: {@code weft proxy-status} against a control plane's monitoring port. */
  private static String proxyStatus(ControlPlaneSlot plane) {
    java.io.StringWriter out = new java.io.StringWriter();
    int exit = new picocli.CommandLine(new weft.cli.Main()).setOut(new java.io.PrintWriter(out, true))
        .execute("proxy-status", "--control-plane", "127.0.0.1:" + plane.monitoringPort());
    assertThat(exit).as("weft proxy-status exit code").isZero();
    return out.toString();
  }

  /** When the stream of the proxy whose node id contains {@code pod} was opened, from /debug/status. */
  private static long connectedAt(ControlPlaneSlot plane, String pod) throws Exception {
    String json = java.net.http.HttpClient.newHttpClient().send(java.net.http.HttpRequest.newBuilder(
        java.net.URI.create("http://127.0.0.1:" + plane.monitoringPort() + "/debug/status")).build(),
        java.net.http.HttpResponse.BodyHandlers.ofString()).body();
    List<Long> found = new ArrayList<>();
    new com.fasterxml.jackson.databind.ObjectMapper().readTree(json).findParents("connectedAt").forEach(n -> {
      if (n.path("id").asText().contains(pod)) found.add(n.path("connectedAt").asLong());
    });
    assertThat(found).as("streams of " + pod).hasSize(1);
    return found.get(0);
  }

  /** Which control plane the proxy's one workload stream is connected to (waiting until it is). */
  private ControlPlaneSlot slotOf(XdsProxy proxy) {
    AtomicReference<ControlPlaneSlot> found = new AtomicReference<>();
    await().atMost(LIVENESS).until(() -> {
      List<String> now = proxy.connectedTo();
      for (ControlPlaneSlot p : planes) {
        if (p.running() && now.equals(List.of(p.address())) && proxy.answering()) found.set(p);
      }
      return found.get() != null;
    });
    return found.get();
  }

  private void writeEverywhere(String file, String yaml) throws IOException {
    for (ControlPlaneSlot p : planes) {
      Path tmp = p.dir.resolve("." + file + ".tmp");
      Files.writeString(tmp, yaml);
      Files.move(tmp, p.dir.resolve(file), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }
  }

  private static String echoConfig(int serverPort, String... ips) {
    List<String[]> workloads = new ArrayList<>();
    for (int i = 0; i < ips.length; i++) workloads.add(new String[] {"echo-" + (i + 1), ips[i], "v1"});
    return Yamls.service("echo", "default", SERVICE_PORT, serverPort, null)
        + Yamls.endpoints("echo", "default", serverPort, workloads.toArray(String[][]::new));
  }

  /** The echo method, answering with the local address the call came in on. */
  private static ServerServiceDefinition whereCalled() {
    ServerServiceDefinition service = ServerServiceDefinition.builder("weft.demo.Echo")
        .addMethod(EchoService.WHO, ServerCalls.asyncUnaryCall((request, response) -> {
          response.onNext(StringValue.of(LOCAL.get()));
          response.onCompleted();
        }))
        .build();
    return ServerInterceptors.intercept(service, new ServerInterceptor() {
      @Override
      public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
          ServerCallHandler<Q, R> next) {
        InetSocketAddress local = (InetSocketAddress) call.getAttributes().get(Grpc.TRANSPORT_ATTR_LOCAL_ADDR);
        return Contexts.interceptCall(Context.current().withValue(LOCAL, local.getAddress().getHostAddress()),
            call, headers, next);
      }
    });
  }

  /** Calls one after another, without pause but for a 2 ms pacing that keeps a shared machine usable. */
  private static final class Traffic implements AutoCloseable {
    final AtomicInteger ok = new AtomicInteger();
    final List<String> failures = java.util.Collections.synchronizedList(new ArrayList<>());
    final Set<String> seen = ConcurrentHashMap.newKeySet();
    private final ScheduledExecutorService caller = Executors.newSingleThreadScheduledExecutor();

    Traffic(ManagedChannel channel) {
      caller.scheduleWithFixedDelay(() -> {
        try {
          seen.add(ClientCalls.blockingUnaryCall(channel, EchoService.WHO,
              CallOptions.DEFAULT.withDeadlineAfter(30, TimeUnit.SECONDS), StringValue.of("hi")).getValue());
          ok.incrementAndGet();
        } catch (RuntimeException e) {
          // Before the first answer the client may still be waiting for config; after, nothing may fail.
          if (ok.get() > 0) failures.add(e.toString());
        }
      }, 0, 2, TimeUnit.MILLISECONDS);
    }

    @Override
    public void close() throws InterruptedException {
      caller.shutdownNow();
      caller.awaitTermination(35, TimeUnit.SECONDS);
    }
  }

  /** One control plane on a fixed xDS port, so it can come back where the proxies look for it. */
  private static final class ControlPlaneSlot {
    final Path dir;
    final int port;
    private ControlPlane running;

    ControlPlaneSlot(Path dir, int port) {
      this.dir = dir;
      this.port = port;
    }

    String address() {
      return "127.0.0.1:" + port;
    }

    int monitoringPort() {
      return running.monitoringPort();
    }

    boolean running() {
      return running != null;
    }

    void start() {
      // A port just released can take a moment to bind again: retry on that state, not on a timer.
      await().atMost(LIVENESS).ignoreExceptionsMatching(e -> e instanceof IOException
          || e.getCause() instanceof java.net.BindException).until(() -> {
            running = ControlPlane.start(ControlPlaneOptions.forConfigDir(dir).withPorts(port, 0));
            return true;
          });
    }

    /** Hard: its gRPC server is shut down at once, every stream cut. */
    void stop() {
      if (running != null) running.close();
      running = null;
    }
  }
}
