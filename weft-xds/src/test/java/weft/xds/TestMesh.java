package weft.xds;

import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.HashMap;
import java.util.Map;
import weft.model.Resource;
import weft.model.ResourceId;
import weft.model.parse.ParsedFile;
import weft.model.parse.ResourceParser;
import weft.registry.ClusterSettings;
import weft.registry.Registry;
import weft.xds.server.AdsServer;
import weft.xds.server.XdsMetrics;

/** A registry fed from YAML strings and an ADS server on a free local port. */
final class TestMesh implements AutoCloseable {
  final Registry registry = new Registry();
  final SimpleMeterRegistry meters = new SimpleMeterRegistry();
  final AdsServer ads;
  final Server server;

  TestMesh(String yaml) throws IOException {
    this(yaml, new Generators());
  }

  /** With generators of the test's making (a failure probe, caching off). */
  TestMesh(String yaml, Generators generators) throws IOException {
    registry.addCluster(new ClusterSettings("cluster1", "", "istio-system"), true);
    apply(yaml, true);
    ads = new AdsServer(registry, "cluster1", new XdsMetrics(meters), generators);
    server = NettyServerBuilder.forAddress(new InetSocketAddress("localhost", 0)).addService(ads.definition())
        .build().start();
  }

  int port() {
    return server.getPort();
  }

  /** Applies every resource in {@code yaml}; fails the test on any parse error. */
  void apply(String yaml, boolean initial) {
    apply("cluster1", yaml, initial);
  }

  /** Applies YAML as the state of {@code cluster}, adding the cluster (not a config source) if new. */
  void apply(String cluster, String yaml, boolean initial) {
    registry.addCluster(new ClusterSettings(cluster, "", "istio-system"), cluster.equals("cluster1"));
    ParsedFile parsed = ResourceParser.parse("test.yaml", yaml);
    if (parsed.problems().stream().anyMatch(p -> p.severity() == weft.model.ConfigProblem.Severity.ERROR
        && parsed.resources().stream().noneMatch(r -> r.id().equals(p.resource())))) {
      throw new AssertionError("bad test YAML: " + parsed.problems());
    }
    Map<ResourceId, Resource> changes = new HashMap<>();
    parsed.resources().forEach(r -> changes.put(r.id(), r));
    registry.update(cluster, changes, initial);
    registry.flush();
  }

  void delete(ResourceId id) {
    Map<ResourceId, Resource> changes = new HashMap<>();
    changes.put(id, null);
    registry.update("cluster1", changes, false);
    registry.flush();
  }

  @Override
  public void close() {
    server.shutdownNow();
    ads.close();
    registry.close();
  }

  static String service(String name, String ns, int port, String... ips) {
    StringBuilder y = new StringBuilder("""
        apiVersion: v1
        kind: Service
        metadata: {name: %s, namespace: %s}
        spec:
          ports: [{name: grpc, port: %d}]
        ---
        apiVersion: discovery.k8s.io/v1
        kind: EndpointSlice
        metadata: {name: %s-1, namespace: %s, labels: {kubernetes.io/service-name: %s}}
        addressType: IPv4
        ports: [{name: grpc, port: %d}]
        endpoints:
        """.formatted(name, ns, port, name, ns, name, port));
    for (String ip : ips) y.append("- addresses: [\"").append(ip).append("\"]\n");
    return y.append("---\n").toString();
  }
}
