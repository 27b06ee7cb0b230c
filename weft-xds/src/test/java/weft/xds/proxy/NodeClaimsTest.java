package weft.xds.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import io.envoyproxy.envoy.config.core.v3.Node;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import weft.security.SpiffeId;
import weft.security.auth.VerifiedCaller;

/** What a node may claim, given the identity its client proved. */
class NodeClaimsTest {
  static final VerifiedCaller FRONTEND_CERT = new VerifiedCaller(new SpiffeId("cluster.local", "default", "frontend"),
      VerifiedCaller.Method.CERTIFICATE, "");

  private static Proxy node(String id, Map<String, String> metadata) throws Exception {
    Struct.Builder md = Struct.newBuilder();
    metadata.forEach((k, v) -> md.putFields(k, Value.newBuilder().setStringValue(v).build()));
    return ProxyParser.parse(Node.newBuilder().setId(id).setMetadata(md).build(), "cluster1");
  }

  private static List<String> check(Proxy p, VerifiedCaller caller) {
    return NodeClaims.mismatches(p, caller, "cluster.local", List.of("old.example"));
  }

  @Test
  void aNodeOfTheCallersOwnNamespaceAndServiceAccountClaimsNothingElse() throws Exception {
    Proxy p = node("sidecar~10.0.0.5~frontend-1.default~default.svc.cluster.local",
        Map.of("NAMESPACE", "default", "SERVICE_ACCOUNT", "frontend", "CLUSTER_ID", "cluster2"));
    assertThat(check(p, FRONTEND_CERT)).isEmpty();
  }

  @Test
  void aNodeThatNamesNoServiceAccountIsCheckedOnItsNamespaceAlone() throws Exception {
    assertThat(check(node("sidecar~10.0.0.5~frontend-1.default~default.svc.cluster.local", Map.of()), FRONTEND_CERT))
        .isEmpty();
  }

  @Test
  void anotherNamespaceInTheMetadataOrTheNodeIdIsAClaim() throws Exception {
    assertThat(check(node("sidecar~10.0.0.5~x.bookinfo~bookinfo.svc.cluster.local", Map.of("NAMESPACE", "bookinfo")),
        FRONTEND_CERT)).containsExactly("namespace 'bookinfo'");
    assertThat(check(node("sidecar~10.0.0.5~x.bookinfo~default.svc.cluster.local", Map.of("NAMESPACE", "default")),
        FRONTEND_CERT)).containsExactly("namespace 'bookinfo' in its node id");
  }

  @Test
  void anotherServiceAccountIsAClaimButItsOwnSpiffeIdIsNot() throws Exception {
    String id = "sidecar~10.0.0.5~x.default~default.svc.cluster.local";
    assertThat(check(node(id, Map.of("SERVICE_ACCOUNT", "reviews")), FRONTEND_CERT))
        .containsExactly("service account 'reviews'");
    assertThat(check(node(id, Map.of("SERVICE_ACCOUNT", "spiffe://cluster.local/ns/default/sa/frontend")),
        FRONTEND_CERT)).isEmpty();
    assertThat(check(node(id, Map.of("SERVICE_ACCOUNT", "spiffe://cluster.local/ns/bookinfo/sa/frontend")),
        FRONTEND_CERT)).hasSize(1);
  }

  @Test
  void aRouterIsHeldToTheSameRule() throws Exception {
    VerifiedCaller gateway = new VerifiedCaller(new SpiffeId("cluster.local", "istio-system", "istio-eastwestgateway"),
        VerifiedCaller.Method.TOKEN, "");
    assertThat(check(node("router~10.0.0.9~gw-1.istio-system~istio-system.svc.cluster.local",
        Map.of("NAMESPACE", "istio-system")), gateway)).isEmpty();
    assertThat(check(node("router~10.0.0.9~gw-1.bookinfo~bookinfo.svc.cluster.local",
        Map.of("NAMESPACE", "bookinfo")), gateway)).containsExactly("namespace 'bookinfo'");
  }

  @Test
  void aWorkloadCertificateCannotClaimToBeARouter() throws Exception {
    // A sidecar's identity asking for a gateway's config: the east-west gateway routes for the whole mesh.
    assertThat(check(node("router~10.0.0.5~frontend-1.default~default.svc.cluster.local",
        Map.of("NAMESPACE", "default")), FRONTEND_CERT)).singleElement().asString()
        .contains("to be a router").contains("'frontend'");
  }

  @Test
  void aGatewayCertificateCannotClaimToBeASidecarOrAProxylessWorkload() throws Exception {
    VerifiedCaller gateway = new VerifiedCaller(new SpiffeId("cluster.local", "istio-system", "istio-eastwestgateway"),
        VerifiedCaller.Method.CERTIFICATE, "");
    assertThat(check(node("sidecar~10.0.0.9~gw-1.istio-system~istio-system.svc.cluster.local",
        Map.of("NAMESPACE", "istio-system")), gateway)).singleElement().asString()
        .contains("to be a sidecar").contains("may only connect as a router");
    assertThat(check(node("sidecar~10.0.0.9~gw-1.istio-system~istio-system.svc.cluster.local",
        Map.of("NAMESPACE", "istio-system", "GENERATOR", "grpc")), gateway)).hasSize(1);
    VerifiedCaller ingress = new VerifiedCaller(new SpiffeId("cluster.local", "istio-ingress",
        "istio-ingressgateway-service-account"), VerifiedCaller.Method.TOKEN, "");
    assertThat(check(node("router~10.0.0.8~in-1.istio-ingress~istio-ingress.svc.cluster.local",
        Map.of("NAMESPACE", "istio-ingress")), ingress)).as("Istio's installers' names, in any namespace").isEmpty();
  }

  @Test
  void aTokenReviewedInOneClusterCannotClaimAnother() throws Exception {
    VerifiedCaller reviewedInCluster1 = new VerifiedCaller(new SpiffeId("cluster.local", "default", "frontend"),
        VerifiedCaller.Method.TOKEN, "cluster1");
    String id = "sidecar~10.0.0.5~x.default~default.svc.cluster.local";
    assertThat(check(node(id, Map.of("CLUSTER_ID", "cluster1")), reviewedInCluster1)).isEmpty();
    assertThat(check(node(id, Map.of()), reviewedInCluster1)).as("no CLUSTER_ID is the control plane's own").isEmpty();
    assertThat(check(node(id, Map.of("CLUSTER_ID", "cluster2")), reviewedInCluster1))
        .containsExactly("cluster 'cluster2' (its token was reviewed in cluster 'cluster1')");
  }

  @Test
  void anIdentityOfAnotherTrustDomainIsRefusedButAnAliasIsOurs() throws Exception {
    String id = "sidecar~10.0.0.5~x.default~default.svc.cluster.local";
    VerifiedCaller other = new VerifiedCaller(new SpiffeId("other.mesh", "default", "frontend"),
        VerifiedCaller.Method.CERTIFICATE, "");
    assertThat(check(node(id, Map.of()), other)).singleElement().asString().contains("trust domain 'other.mesh'");
    VerifiedCaller alias = new VerifiedCaller(new SpiffeId("old.example", "default", "frontend"),
        VerifiedCaller.Method.CERTIFICATE, "");
    assertThat(check(node(id, Map.of()), alias)).isEmpty();
  }
}
