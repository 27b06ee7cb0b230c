package weft.xds.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import io.envoyproxy.envoy.config.core.v3.Node;
import org.junit.jupiter.api.Test;

/** A proxy's namespace picks the config it sees: it must be a namespace name, whatever the client sends. */
class ProxyNamespaceTest {
  static Node node(String id, String namespace) {
    Struct.Builder md = Struct.newBuilder();
    if (namespace != null) md.putFields("NAMESPACE", Value.newBuilder().setStringValue(namespace).build());
    return Node.newBuilder().setId(id).setMetadata(md).build();
  }

  @Test
  void aValidNamespaceIsTaken() throws Exception {
    assertThat(ProxyParser.parse(node("sidecar~10.0.0.1~app-1.bookinfo~bookinfo.svc.cluster.local", "bookinfo"),
        "cluster1").namespace()).isEqualTo("bookinfo");
  }

  @Test
  void aNamespaceWithEscapeCodesIsRefusedEscaped() {
    assertThatThrownBy(() -> ProxyParser.parse(node("sidecar~10.0.0.1~app-1.default~default.svc.cluster.local",
        "default\u001b[2J\nforged"), "cluster1"))
        .isInstanceOf(ProxyParser.InvalidNodeException.class)
        .hasMessageContaining("metadata NAMESPACE").hasMessageContaining("\\u001b[2J\\u000aforged")
        .hasMessageContaining("DNS-1123 label")
        .satisfies(e -> assertThat(e.getMessage()).doesNotContain("\n").doesNotContain("\u001b"));
  }

  @Test
  void aBadNamespaceFromTheNodeIdIsRefusedToo() {
    assertThatThrownBy(() -> ProxyParser.parse(node("sidecar~10.0.0.1~app-1.Not_A_Namespace~x.svc.cluster.local",
        null), "cluster1")).isInstanceOf(ProxyParser.InvalidNodeException.class)
        .hasMessageContaining("\"Not_A_Namespace\"");
  }
}
