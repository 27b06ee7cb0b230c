package weft.gateway.xds;

import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import io.envoyproxy.envoy.config.core.v3.Node;
import java.util.Map;

/** Istio's node identity for a gateway: id {@code router~IP~POD.NS~NS.svc.cluster.local} and its metadata. */
public final class RouterNode {
  private RouterNode() {}

  public static Node of(String ip, String pod, String namespace, String clusterId, String network,
      Map<String, String> labels) {
    Struct.Builder l = Struct.newBuilder();
    labels.forEach((k, v) -> l.putFields(k, Value.newBuilder().setStringValue(v).build()));
    Struct.Builder md = Struct.newBuilder()
        .putFields("NAMESPACE", string(namespace))
        .putFields("LABELS", Value.newBuilder().setStructValue(l).build());
    if (!clusterId.isEmpty()) md.putFields("CLUSTER_ID", string(clusterId));
    if (!network.isEmpty()) md.putFields("NETWORK", string(network));
    return Node.newBuilder()
        .setId("router~" + ip + "~" + pod + "." + namespace + "~" + namespace + ".svc.cluster.local")
        .setCluster(labels.getOrDefault("app", "istio-eastwestgateway"))
        .setUserAgentName("weft-gateway")
        .setMetadata(md)
        .build();
  }

  private static Value string(String s) {
    return Value.newBuilder().setStringValue(s).build();
  }
}
