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
