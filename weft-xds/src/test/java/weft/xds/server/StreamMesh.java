package weft.xds.server;

import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.netty.shaded.io.netty.buffer.UnpooledByteBufAllocator;
import io.grpc.netty.shaded.io.netty.channel.ChannelOption;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import weft.model.Resource;
import weft.model.ResourceId;
import weft.model.parse.ParsedFile;
import weft.model.parse.ResourceParser;
import weft.registry.ClusterSettings;
import weft.registry.Registry;
import weft.xds.Generators;

/** A registry fed from YAML and an ADS server on a free local port whose send timeouts run on a test's clock. */
final class StreamMesh implements AutoCloseable {
  final Registry registry = new Registry();
  final SimpleMeterRegistry meters = new SimpleMeterRegistry();
  final ManualDeadlines deadlines = new ManualDeadlines();
  final AdsServer ads;
  final Server server;

  StreamMesh(String yaml) throws IOException {
    registry.addCluster(new ClusterSettings("cluster1", "", "istio-system"), true);
    apply(parse(yaml), true);
    ads = new AdsServer(registry, "cluster1", new XdsMetrics(meters), new Generators(),
        AdsServer.DEFAULT_SEND_TIMEOUT, deadlines);
    // Heap buffers in the transport: what it holds for a client that does not read shows in the live
    // heap a test measures (Netty would otherwise keep it off-heap, out of sight).
    server = NettyServerBuilder.forAddress(new InetSocketAddress("localhost", 0)).addService(ads.definition())
        .withChildOption(ChannelOption.ALLOCATOR, new UnpooledByteBufAllocator(false))
        .build().start();
  }

  int port() {
    return server.getPort();
  }

  static Map<ResourceId, Resource> parse(String yaml) {
    ParsedFile parsed = ResourceParser.parse("test.yaml", yaml);
    if (parsed.problems().stream().anyMatch(p -> p.severity() == weft.model.ConfigProblem.Severity.ERROR)) {
      throw new AssertionError("bad test YAML: " + parsed.problems());
    }
    Map<ResourceId, Resource> out = new HashMap<>();
    parsed.resources().forEach(r -> out.put(r.id(), r));
    return out;
  }

  /** Applies parsed resources and waits until the registry published them. */
  void apply(Map<ResourceId, Resource> resources, boolean initial) {
    registry.update("cluster1", resources, initial);
    registry.flush();
  }

  double counter(String name) {
    var c = meters.find(name).counter();
    return c == null ? 0 : c.count();
  }

  @Override
  public void close() {
    server.shutdownNow();
    ads.close();
    registry.close();
  }

  /** A Service with one port and an EndpointSlice holding {@code ips}. */
  static String service(String name, int port, String slice, List<String> ips) {
    StringBuilder y = new StringBuilder("""
        apiVersion: v1
        kind: Service
        metadata: {name: %s, namespace: default}
        spec:
          ports: [{name: grpc, port: %d}]
        ---
        """.formatted(name, port));
    y.append(slice(name, port, slice, ips));
    return y.toString();
  }

  static String slice(String service, int port, String slice, List<String> ips) {
    StringBuilder y = new StringBuilder("""
        apiVersion: discovery.k8s.io/v1
        kind: EndpointSlice
        metadata: {name: %s, namespace: default, labels: {kubernetes.io/service-name: %s}}
        addressType: IPv4
        ports: [{name: grpc, port: %d}]
        endpoints:
        """.formatted(slice, service, port));
    for (String ip : ips) y.append("- addresses: [\"").append(ip).append("\"]\n");
    return y.append("---\n").toString();
  }

  /** {@code count} addresses from 10.{@code net}.0.1 on. */
  static List<String> addresses(int net, int count) {
    List<String> out = new ArrayList<>();
    for (int i = 0; i < count; i++) out.add("10." + net + "." + (i / 250) + "." + (i % 250 + 1));
    return out;
  }

  /** A proxyless gRPC client's node (what grpc-java's bootstrap sends). */
  static Node proxyless(String pod) {
    return Node.newBuilder()
        .setId("sidecar~10.0.0.9~" + pod + ".default~default.svc.cluster.local")
        .setMetadata(Struct.newBuilder()
            .putFields("GENERATOR", Value.newBuilder().setStringValue("grpc").build())
            .putFields("NAMESPACE", Value.newBuilder().setStringValue("default").build()))
        .build();
  }

  static String id(Node node) {
    return node.getId();
  }

  /** Send-timeout time that moves only when the test says so; due checks run on the advancing thread. */
  static final class ManualDeadlines implements Deadlines {
    private long now;
    private final List<Map.Entry<Long, Runnable>> tasks = new ArrayList<>();

    @Override
    public synchronized long nanoTime() {
      return now;
    }

    @Override
    public synchronized void after(long delayNanos, Runnable task) {
      tasks.add(Map.entry(now + delayNanos, task));
    }

    /** Moves time on and runs every check that became due. */
    void advance(Duration by) {
      List<Runnable> due = new ArrayList<>();
      synchronized (this) {
        now += by.toNanos();
        tasks.removeIf(t -> {
          if (t.getKey() > now) return false;
          due.add(t.getValue());
          return true;
        });
      }
      due.forEach(Runnable::run);
    }
  }
}
