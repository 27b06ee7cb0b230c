package weft.xds.security;

import static org.assertj.core.api.Assertions.assertThat;
import static weft.xds.security.SecureMesh.PLAIN;
import static weft.xds.security.SecureMesh.SERVER_LISTENER;
import static weft.xds.security.SecureMesh.authorizationPolicy;

import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import java.util.List;
import org.junit.jupiter.api.Test;
import weft.model.parse.MeshConfigParser;

/**
 * Principals of another trust domain (a federated mesh's) match exactly that identity; principals
 * of ours match under each name of our trust domain (MeshConfig trustDomainAliases), as Istio
 * does. Checked by running the generated filters through grpc-java's RBAC engine.
 */
class ForeignPrincipalRbacTest {
  static final String HELLO = "greet.Greeter/Hello";

  static GrpcRbac rbac(String meshConfig, String policy) {
    try (SecureMesh mesh = new SecureMesh(SecureMesh.greeter(PLAIN, PLAIN) + policy)) {
      if (meshConfig != null) {
        var parsed = MeshConfigParser.parseMeshConfig("mesh.yaml", meshConfig);
        assertThat(parsed.problems()).isEmpty();
        mesh.registry.setMeshConfig(parsed.value());
        mesh.registry.flush();
      }
      HttpConnectionManager hcm = SecureMesh.hcm(SecureMesh.listener(mesh.server(PLAIN), SERVER_LISTENER));
      return new GrpcRbac(hcm.getHttpFiltersList());
    }
  }

  @Test
  void aForeignPrincipalAdmitsExactlyThatIdentityAndNoOtherServiceAccountOrDomain() {
    GrpcRbac grpc = rbac("trustDomain: cluster.local\ntrustDomainAliases: [old.local]\n",
        authorizationPolicy("default", "from-mesh2", """
            selector: {matchLabels: {app: greeter}}
            rules:
            - from: [{source: {principals: ["mesh2.example/ns/default/sa/frontend"]}}]
            """));
    assertThat(grpc.allows("spiffe://mesh2.example/ns/default/sa/frontend", HELLO)).isTrue();
    assertThat(grpc.allows("spiffe://mesh2.example/ns/default/sa/other", HELLO)).isFalse();
    assertThat(grpc.allows("spiffe://cluster.local/ns/default/sa/frontend", HELLO))
        .as("the same name in our own trust domain is another identity").isFalse();
    assertThat(grpc.allows("spiffe://old.local/ns/default/sa/frontend", HELLO)).isFalse();
    assertThat(grpc.allows("spiffe://mesh2.example.evil/ns/default/sa/frontend", HELLO)).isFalse();
  }

  @Test
  void ourPrincipalsMatchUnderEveryAliasButNotInAPeersDomain() {
    GrpcRbac grpc = rbac("trustDomain: mesh1.example\ntrustDomainAliases: [old.local]\n",
        authorizationPolicy("default", "frontend", """
            selector: {matchLabels: {app: greeter}}
            rules:
            - from: [{source: {principals: ["mesh1.example/ns/default/sa/frontend", "cluster.local/ns/default/sa/web"]}}]
            """));
    assertThat(grpc.allows("spiffe://mesh1.example/ns/default/sa/frontend", HELLO)).isTrue();
    assertThat(grpc.allows("spiffe://old.local/ns/default/sa/frontend", HELLO)).as("an alias of ours").isTrue();
    assertThat(grpc.allows("spiffe://mesh2.example/ns/default/sa/frontend", HELLO)).isFalse();
    // Istio reads cluster.local in a policy as "our trust domain", whatever it is called.
    assertThat(grpc.allows("spiffe://mesh1.example/ns/default/sa/web", HELLO)).isTrue();
    assertThat(grpc.allows("spiffe://old.local/ns/default/sa/web", HELLO)).isTrue();
    assertThat(grpc.allows("spiffe://mesh2.example/ns/default/sa/web", HELLO)).isFalse();
  }

  @Test
  void aliasExpansionLeavesWildcardsAndForeignPrincipalsAlone() {
    TrustDomainAliases names = new TrustDomainAliases("cluster.local", List.of("old.local"));
    assertThat(names.expand(List.of("cluster.local/ns/a/sa/b", "mesh2.example/ns/a/sa/b", "*/ns/a/sa/b", "*",
        "cluster.local/ns/a/sa/b*", "old.local/ns/a/sa/b")))
        .containsExactly("cluster.local/ns/a/sa/b", "old.local/ns/a/sa/b", "mesh2.example/ns/a/sa/b", "*/ns/a/sa/b",
            "*", "cluster.local/ns/a/sa/b*", "old.local/ns/a/sa/b*");
    assertThat(TrustDomainAliases.NONE.expand(List.of("cluster.local/ns/a/sa/b"))).containsExactly("cluster.local/ns/a/sa/b");
  }
}
