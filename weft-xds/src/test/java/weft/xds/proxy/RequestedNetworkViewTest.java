package weft.xds.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ListValue;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import io.envoyproxy.envoy.config.core.v3.Node;
import org.junit.jupiter.api.Test;

/** Istio's REQUESTED_NETWORK_VIEW, as ISTIO_META_* gives it (a comma-separated string) or as a list. */
class RequestedNetworkViewTest {
  static final String ID = "router~10.0.0.1~gw-1.istio-system~istio-system.svc.cluster.local";

  static Node node(Value view) {
    Struct.Builder md = Struct.newBuilder();
    if (view != null) md.putFields("REQUESTED_NETWORK_VIEW", view);
    return Node.newBuilder().setId(ID).setMetadata(md).build();
  }

  static Value text(String s) {
    return Value.newBuilder().setStringValue(s).build();
  }

  @Test
  void absentOrEmptyMeansEveryNetwork() throws Exception {
    assertThat(ProxyParser.parse(node(null), "c1").networkView()).isEmpty();
    assertThat(ProxyParser.parse(node(text("")), "c1").networkView()).isEmpty();
  }

  @Test
  void aCommaSeparatedStringOrAListIsReadSortedAndTrimmed() throws Exception {
    assertThat(ProxyParser.parse(node(text("network-2, network-1,,network-2")), "c1").networkView())
        .containsExactly("network-1", "network-2");
    Value list = Value.newBuilder().setListValue(ListValue.newBuilder().addValues(text("b")).addValues(text("a"))).build();
    assertThat(ProxyParser.parse(node(list), "c1").networkView()).containsExactly("a", "b");
  }

  @Test
  void junkAndFloodsAreRefusedNamingTheField() {
    assertThatThrownBy(() -> ProxyParser.parse(node(text("net\nforged")), "c1"))
        .isInstanceOf(ProxyParser.InvalidNodeException.class).hasMessageContaining("REQUESTED_NETWORK_VIEW")
        .satisfies(e -> assertThat(e.getMessage()).doesNotContain("\n"));
    assertThatThrownBy(() -> ProxyParser.parse(node(text("n".repeat(300))), "c1"))
        .isInstanceOf(ProxyParser.InvalidNodeException.class).hasMessageContaining("at most 253");
    StringBuilder many = new StringBuilder();
    for (int i = 0; i < 65; i++) many.append("net-").append(i).append(',');
    assertThatThrownBy(() -> ProxyParser.parse(node(text(many.toString())), "c1"))
        .isInstanceOf(ProxyParser.InvalidNodeException.class).hasMessageContaining("65 networks");
  }
}
