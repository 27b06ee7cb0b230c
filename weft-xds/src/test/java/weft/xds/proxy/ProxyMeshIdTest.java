package weft.xds.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import io.envoyproxy.envoy.config.core.v3.Node;
import org.junit.jupiter.api.Test;
import weft.xds.ClusterName;

/** MESH_ID names the mesh a proxy says it belongs to: shown in status, so checked like any node field. */
class ProxyMeshIdTest {
  static Node node(String meshId) {
    Struct.Builder md = Struct.newBuilder().putFields("NAMESPACE", Value.newBuilder().setStringValue("default").build());
    if (meshId != null) md.putFields("MESH_ID", Value.newBuilder().setStringValue(meshId).build());
    return Node.newBuilder().setId("sidecar~10.0.0.1~app-1.default~default.svc.cluster.local").setMetadata(md).build();
  }

  @Test
  void meshIdIsTakenFromTheMetadataAndEmptyWhenAbsent() throws Exception {
    assertThat(ProxyParser.parse(node("mesh1"), "cluster1").meshId()).isEqualTo("mesh1");
    assertThat(ProxyParser.parse(node("mesh1.example"), "cluster1").meshId()).isEqualTo("mesh1.example");
    assertThat(ProxyParser.parse(node(null), "cluster1").meshId()).isEmpty();
  }

  @Test
  void aMeshIdThatIsNotAHostNameIsRefusedEscaped() {
    assertThatThrownBy(() -> ProxyParser.parse(node("mesh1\nforged"), "cluster1"))
        .isInstanceOf(ProxyParser.InvalidNodeException.class).hasMessageContaining("MESH_ID")
        .satisfies(e -> assertThat(e.getMessage()).doesNotContain("\n"));
    assertThatThrownBy(() -> ProxyParser.parse(node("x".repeat(300)), "cluster1"))
        .isInstanceOf(ProxyParser.InvalidNodeException.class);
  }

  @Test
  void anIstioFormSniHasADnsAliasForGrpcJava() {
    assertThat(ClusterName.sniAliasOf("outbound_.9080_._.c.default.svc.cluster.local"))
        .isEqualTo("outbound-9080.c.default.svc.cluster.local");
    assertThat(ClusterName.sniAliasOf("outbound_.9080_.v1_.c.default.svc.cluster.local"))
        .isEqualTo("outbound-9080-v1.c.default.svc.cluster.local");
    assertThat(ClusterName.sniAliasOf("c.example.com")).isNull();
    assertThat(ClusterName.sniAliasOf("outbound_.99999_._.c")).isNull();
  }
}
