package weft.controlplane;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.util.List;
import org.junit.jupiter.api.Test;
import weft.model.DestinationRule;
import weft.model.ServiceEntry;
import weft.security.meshes.ExportDocument;
import weft.security.meshes.ExportedService;
import weft.security.meshes.MeshPeer;

/** A peer's exported services as this mesh's config, and the label that exports ours. */
class MeshImportsTest {
  static final ExportedService C = new ExportedService("c", "default", "c.default.svc.cluster.local",
      List.of(new ExportedService.Port("grpc", 9080, "GRPC"), new ExportedService.Port("", 9443, "")),
      List.of("spiffe://mesh2.example/ns/default/sa/c"), List.of(new MeshPeer.Gateway("198.18.0.20", 15443)));

  static MeshPeer peer(List<MeshPeer.Gateway> gateways) {
    return new MeshPeer("mesh2", "mesh2.example", URI.create("https://198.18.0.2:15090/"),
        "spiffe://mesh2.example/ns/istio-system/sa/istiod", gateways, "test");
  }

  @Test
  void anExportedServiceBecomesAMeshQualifiedHostReachedThroughThePeersGatewayWithItsOwnSni() {
    MeshImports.Result r = MeshImports.build(peer(List.of(new MeshPeer.Gateway("198.18.0.10", 15443))),
        new ExportDocument("mesh2", "mesh2.example", List.of(C)), "global");
    assertThat(r.imports()).singleElement().satisfies(i -> {
      assertThat(i.host()).isEqualTo("c.default.svc.mesh2.global");
      assertThat(i.leftOut()).isNull();
    });
    ServiceEntry se = (ServiceEntry) r.resources().stream().filter(x -> x instanceof ServiceEntry).findFirst().get();
    assertThat(se.id().namespace()).isEqualTo("default");
    assertThat(se.hosts()).containsExactly("c.default.svc.mesh2.global");
    assertThat(se.location()).isEqualTo("MESH_INTERNAL");
    // The MeshFederation's gateway wins over the one the peer sent: the peer cannot redirect our traffic.
    assertThat(se.endpoints()).singleElement().satisfies(e -> {
      assertThat(e.address()).isEqualTo("198.18.0.10");
      assertThat(e.ports()).containsEntry("grpc", 15443).containsEntry("port-9443", 15443);
    });
    DestinationRule dr = (DestinationRule) r.resources().stream().filter(x -> x instanceof DestinationRule)
        .findFirst().get();
    assertThat(dr.host()).isEqualTo("c.default.svc.mesh2.global");
    assertThat(dr.trafficPolicy().tls().mode()).isEqualTo("ISTIO_MUTUAL");
    assertThat(dr.trafficPolicy().portLevelSettings()).extracting(p -> p.tls().sni())
        .containsExactly("outbound_.9080_._.c.default.svc.cluster.local", "outbound_.9443_._.c.default.svc.cluster.local");
    assertThat(dr.trafficPolicy().portLevelSettings()).allSatisfy(p ->
        assertThat(p.tls().subjectAltNames()).containsExactly("spiffe://mesh2.example/ns/default/sa/c"));
  }

  @Test
  void withoutDeclaredGatewaysThePeersOwnAreUsedAndWithoutAnyTheServiceIsLeftOut() {
    MeshImports.Result sent = MeshImports.build(peer(List.of()), new ExportDocument("mesh2", "mesh2.example",
        List.of(C)), "global");
    ServiceEntry se = (ServiceEntry) sent.resources().get(0);
    assertThat(se.endpoints()).extracting(e -> e.address()).containsExactly("198.18.0.20");
    ExportedService noGateway = new ExportedService("d", "default", "d.default.svc.cluster.local", C.ports(),
        C.identities(), List.of());
    MeshImports.Result none = MeshImports.build(peer(List.of()), new ExportDocument("mesh2", "mesh2.example",
        List.of(noGateway)), "global");
    assertThat(none.resources()).isEmpty();
    assertThat(none.imports()).singleElement().satisfies(i -> assertThat(i.leftOut()).contains("no east-west gateway"));
  }

  @Test
  void theExportLabelNamesAPeerByItsIdACommaListOrStar() {
    assertThat(MeshExports.names("mesh2", "mesh2")).isTrue();
    assertThat(MeshExports.names(" mesh1 , mesh2", "mesh2")).isTrue();
    assertThat(MeshExports.names("*", "mesh2")).isTrue();
    assertThat(MeshExports.names("mesh22", "mesh2")).isFalse();
    assertThat(MeshExports.names("", "mesh2")).isFalse();
    assertThat(MeshExports.names(null, "mesh2")).isFalse();
  }
}
