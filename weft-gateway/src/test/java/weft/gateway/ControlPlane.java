package weft.gateway;

import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.HashMap;
import java.util.Map;
import weft.model.ConfigProblem;
import weft.model.Resource;
import weft.model.ResourceId;
import weft.model.parse.ParsedFile;
import weft.model.parse.ResourceParser;
import weft.registry.ClusterSettings;
import weft.registry.Registry;
import weft.xds.server.AdsServer;
import weft.xds.server.XdsMetrics;

/** Weft's real registry and ADS server, fed from YAML, on a local port. */
final class ControlPlane implements AutoCloseable {
  final Registry registry = new Registry();
  private AdsServer ads;
  private Server server;

  ControlPlane(String yaml) throws IOException {
    registry.addCluster(new ClusterSettings("cluster1", "", "istio-system"), true);
    apply(yaml, true);
    serve(0);
  }

  /** (Re)starts the ADS server; port 0 picks a free one. */
  void serve(int port) throws IOException {
    ads = new AdsServer(registry, "cluster1", new XdsMetrics(new SimpleMeterRegistry()));
    server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", port)).addService(ads.definition())
        .build().start();
  }

  void stopServing() {
    server.shutdownNow();
    ads.close();
  }

  int port() {
    return server.getPort();
  }

  void apply(String yaml, boolean initial) {
    ParsedFile parsed = ResourceParser.parse("test.yaml", yaml);
    if (parsed.problems().stream().anyMatch(p -> p.severity() == ConfigProblem.Severity.ERROR)) {
      throw new AssertionError("bad test YAML: " + parsed.problems());
    }
    Map<ResourceId, Resource> changes = new HashMap<>();
    parsed.resources().forEach(r -> changes.put(r.id(), r));
    registry.update("cluster1", changes, initial);
    registry.flush();
  }

  @Override
  public void close() {
    stopServing();
    registry.close();
  }
}
