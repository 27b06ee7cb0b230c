package weft.security.meshes;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/** A peer's export list is hostile input: every field checked, a bad service left out alone. */
class ExportDocumentTest {
  static final String GOOD = """
      {"name": "c", "namespace": "default", "host": "c.default.svc.cluster.local",
       "ports": [{"name": "grpc", "number": 9080, "protocol": "GRPC"}],
       "identities": ["spiffe://mesh2.example/ns/default/sa/c"],
       "gateways": [{"address": "198.18.0.10", "port": 15443}]}""";

  static ExportDocument.Parsed parse(String... services) {
    String doc = "{\"meshId\": \"mesh2\", \"trustDomain\": \"mesh2.example\", \"services\": ["
        + String.join(",", services) + "]}";
    return ExportDocument.parse(doc.getBytes(StandardCharsets.UTF_8), "mesh2", "mesh2.example");
  }

  @Test
  void roundTripsWhatAControlPlaneServes() {
    ExportDocument d = parse(GOOD).document();
    assertThat(d.services()).hasSize(1);
    ExportedService c = d.services().get(0);
    assertThat(c.ports()).containsExactly(new ExportedService.Port("grpc", 9080, "GRPC"));
    assertThat(c.gateways()).containsExactly(new MeshPeer.Gateway("198.18.0.10", 15443));
    assertThat(ExportDocument.parse(d.toJson().getBytes(StandardCharsets.UTF_8), "mesh2", "mesh2.example").document())
        .isEqualTo(d);
  }

  @Test
  void aServiceWithABadFieldIsLeftOutAloneWithTheReason() {
    List<String> bad = List.of(
        GOOD.replace("\"c\", \"namespace\"", "\"C;rm\", \"namespace\""),
        GOOD.replace("c.default.svc.cluster.local", "c..local"),
        GOOD.replace("9080", "70000"),
        GOOD.replace("\"GRPC\"", "\"SMTP\""),
        // An identity of another trust domain: the peer must not make us accept a third mesh's workloads.
        GOOD.replace("spiffe://mesh2.example/", "spiffe://mesh1.example/"),
        GOOD.replace("spiffe://mesh2.example/ns/default/sa/c", "spiffe://mesh2.example/ns/../sa/c"),
        GOOD.replace("\"identities\": [\"spiffe://mesh2.example/ns/default/sa/c\"]", "\"identities\": []"),
        GOOD.replace("198.18.0.10", "gateway.example.com"),
        GOOD.replace("15443", "0"));
    for (String s : bad) {
      ExportDocument.Parsed p = parse(GOOD.replace("\"c\"", "\"d\"").replace("c.default", "d.default"), s);
      assertThat(p.document().services()).as(s).extracting(ExportedService::name).containsExactly("d");
      assertThat(p.problems()).as(s).singleElement().asString().contains("services[1]", "left out");
    }
  }

  @Test
  void aDocumentOfAnotherMeshTooLargeOrNotJsonIsRefusedWhole() {
    String other = "{\"meshId\": \"mesh3\", \"trustDomain\": \"mesh2.example\", \"services\": []}";
    assertThatThrownBy(() -> ExportDocument.parse(other.getBytes(StandardCharsets.UTF_8), "mesh2", "mesh2.example"))
        .hasMessageContaining("mesh 'mesh3'");
    assertThatThrownBy(() -> ExportDocument.parse("not json".getBytes(StandardCharsets.UTF_8), "mesh2",
        "mesh2.example")).hasMessageContaining("not JSON");
    assertThatThrownBy(() -> ExportDocument.parse(new byte[ExportDocument.MAX_BYTES + 1], "mesh2", "mesh2.example"))
        .hasMessageContaining("larger than");
    String deep = "[".repeat(100) + "]".repeat(100);
    assertThatThrownBy(() -> ExportDocument.parse(deep.getBytes(StandardCharsets.UTF_8), "mesh2", "mesh2.example"))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void meshFederationNamesEveryBadFieldAndDefaultsTheEndpointId() throws Exception {
    ObjectMapper json = new ObjectMapper();
    MeshFederationParser.Result ok = MeshFederationParser.parse(json.readTree("""
        {"apiVersion": "weft.dev/v1alpha1", "kind": "MeshFederation", "metadata": {"name": "mesh2"},
         "spec": {"meshId": "mesh2", "trustDomain": "mesh2.example", "federationAddress": "https://198.18.0.2:15090/",
                  "gateways": ["198.18.0.10:15443", "[2001:db8::1]:15443"]}}"""), "f.yaml", "istio-system");
    assertThat(ok.problems()).isEmpty();
    assertThat(ok.peer().endpointSpiffeId()).isEqualTo("spiffe://mesh2.example/ns/istio-system/sa/istiod");
    assertThat(ok.peer().gateways()).hasSize(2);
    MeshFederationParser.Result bad = MeshFederationParser.parse(json.readTree("""
        {"apiVersion": "weft.dev/v1alpha1", "kind": "MeshFederation", "metadata": {"name": "x"},
         "spec": {"meshId": "Mesh_2", "trustDomain": "mesh2.example", "federationAddress": "http://h/",
                  "endpointSPIFFEID": "spiffe://other.example/x", "gateways": ["gw.example:15443"], "extra": 1}}"""),
        "f.yaml", "istio-system");
    assertThat(bad.peer()).isNull();
    assertThat(String.join("\n", bad.problems())).contains("spec.meshId", "spec.federationAddress",
        "spec.endpointSPIFFEID", "spec.gateways[0]", "spec.extra");
  }
}
