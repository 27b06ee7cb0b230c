package weft.xds.envoygen;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import weft.model.ConfigProblem;
import weft.model.Resource;
import weft.model.ResourceId;
import weft.model.parse.ParsedFile;
import weft.model.parse.ResourceParser;
import weft.registry.ClusterSettings;
import weft.registry.Registry;
import weft.registry.Locality;
import weft.xds.proxy.Proxy;
import weft.xds.view.ProxyView;

/** A registry fed from YAML (and model records the parser does not read yet), and proxies to view it with. */
final class EnvoyMesh implements AutoCloseable {
  final Registry registry = new Registry();

  EnvoyMesh(String yaml, Resource... extra) {
    registry.addCluster(new ClusterSettings("cluster1", "network1", "istio-system"), true);
    ParsedFile parsed = ResourceParser.parse("test.yaml", yaml);
    if (parsed.problems().stream().anyMatch(p -> p.severity() == ConfigProblem.Severity.ERROR
        && parsed.resources().stream().noneMatch(r -> r.id().equals(p.resource())))) {
      throw new AssertionError("bad test YAML: " + parsed.problems());
    }
    Map<ResourceId, Resource> changes = new HashMap<>();
    parsed.resources().forEach(r -> changes.put(r.id(), r));
    for (Resource r : extra) changes.put(r.id(), r);
    registry.update("cluster1", changes, true);
    registry.flush();
  }

  ProxyView sidecar(String namespace, String ip, Map<String, String> labels) {
    return new ProxyView(registry.current(), new Proxy("sidecar~" + ip + "~app." + namespace + "~" + namespace
        + ".svc.cluster.local", "sidecar", ip, "app", namespace, "cluster1", "network1", labels, "default",
        Locality.UNKNOWN, false, namespace + ".svc.cluster.local"));
  }

  ProxyView router(String namespace, String ip, Map<String, String> labels) {
    return new ProxyView(registry.current(), new Proxy("router~" + ip + "~gw." + namespace + "~" + namespace
        + ".svc.cluster.local", "router", ip, "gw", namespace, "cluster1", "network1", labels, "gateway",
        Locality.UNKNOWN, false, namespace + ".svc.cluster.local"));
  }

  static <T extends Message> T unpack(Any any, Class<T> type) {
    if (any == null) throw new AssertionError("no resource");
    try {
      return any.unpack(type);
    } catch (InvalidProtocolBufferException e) {
      throw new AssertionError(e);
    }
  }

  static <T extends Message> List<T> unpackAll(Map<String, Any> resources, Class<T> type) {
    return resources.values().stream().map(a -> unpack(a, type)).toList();
  }

  @Override
  public void close() {
    registry.close();
  }
}
