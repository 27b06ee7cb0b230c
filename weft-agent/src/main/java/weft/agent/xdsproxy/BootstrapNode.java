package weft.agent.xdsproxy;

import com.google.protobuf.ListValue;
import com.google.protobuf.NullValue;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import io.envoyproxy.envoy.config.core.v3.Locality;
import io.envoyproxy.envoy.config.core.v3.Node;
import java.util.List;
import java.util.Map;

/** The {@code node} of a gRPC bootstrap document (JSON-ready maps) as the xDS Node it stands for. */
final class BootstrapNode {
  private BootstrapNode() {}

  static Node of(Map<String, ?> bootstrap) {
    if (!(bootstrap.get("node") instanceof Map<?, ?> node)) return Node.getDefaultInstance();
    Node.Builder b = Node.newBuilder();
    if (node.get("id") instanceof String id) b.setId(id);
    if (node.get("metadata") instanceof Map<?, ?> md) b.setMetadata(struct(md));
    if (node.get("locality") instanceof Map<?, ?> l) {
      Locality.Builder locality = Locality.newBuilder();
      if (l.get("region") instanceof String s) locality.setRegion(s);
      if (l.get("zone") instanceof String s) locality.setZone(s);
      if (l.get("sub_zone") instanceof String s) locality.setSubZone(s);
      b.setLocality(locality);
    }
    return b.build();
  }

  private static Struct struct(Map<?, ?> map) {
    Struct.Builder s = Struct.newBuilder();
    map.forEach((k, v) -> s.putFields(String.valueOf(k), value(v)));
    return s.build();
  }

  private static Value value(Object v) {
    if (v == null) return Value.newBuilder().setNullValue(NullValue.NULL_VALUE).build();
    if (v instanceof String s) return Value.newBuilder().setStringValue(s).build();
    if (v instanceof Boolean bo) return Value.newBuilder().setBoolValue(bo).build();
    if (v instanceof Number n) return Value.newBuilder().setNumberValue(n.doubleValue()).build();
    if (v instanceof Map<?, ?> m) return Value.newBuilder().setStructValue(struct(m)).build();
    if (v instanceof List<?> list) {
      ListValue.Builder l = ListValue.newBuilder();
      list.forEach(e -> l.addValues(value(e)));
      return Value.newBuilder().setListValue(l).build();
    }
    return Value.newBuilder().setStringValue(String.valueOf(v)).build();
  }
}
