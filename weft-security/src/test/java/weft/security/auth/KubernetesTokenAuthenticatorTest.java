package weft.security.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.fabric8.kubernetes.api.model.authentication.TokenReview;
import io.fabric8.kubernetes.api.model.authentication.TokenReviewBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMixedDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import io.fabric8.mockwebserver.ServerRequest;
import io.fabric8.mockwebserver.ServerResponse;
import io.fabric8.mockwebserver.http.RecordedRequest;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import weft.security.api.IstioCertificateRequest;
import weft.security.ca.CaStore;
import weft.security.ca.CertificateAuthority;
import weft.security.testing.CaHarness;
import weft.security.testing.Chains;
import weft.security.testing.Csrs;

/**
 * Kubernetes mode over real gRPC and TLS. Each cluster's API server is a fabric8 mock that answers
 * TokenReview as a real one would: its own tokens are authenticated (or expired), others are not.
 */
class KubernetesTokenAuthenticatorTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir Path caDir;
  private KubernetesMockServer cluster1;
  private KubernetesMockServer cluster2;
  private KubernetesClient client1;
  private KubernetesClient client2;
  private CaHarness harness;
  private final List<JsonNode> reviewed = new java.util.concurrent.CopyOnWriteArrayList<>();

  @BeforeEach
  void start() throws Exception {
    cluster1 = apiServer(Map.of("token-of-frontend-in-cluster1", "system:serviceaccount:default:frontend"));
    cluster2 = apiServer(Map.of("token-of-reviews-in-cluster2", "system:serviceaccount:bookinfo:reviews",
        "token-of-a-person", "jane@example.com"));
    client1 = cluster1.createClient();
    client2 = cluster2.createClient();
    Map<String, KubernetesClient> clients = Map.of("cluster1", client1, "cluster2", client2);
    CertificateAuthority ca = CaStore.loadOrCreate(caDir, "cluster.local", Clock.systemUTC());
    harness = new CaHarness(ca, "cluster.local",
        new KubernetesTokenAuthenticator("cluster1", clients::get, List.of("istio-ca")));
  }

  @AfterEach
  void stop() throws Exception {
    harness.close();
    client1.close();
    client2.close();
    cluster1.destroy();
    cluster2.destroy();
  }

  @Test
  void callerInTheLocalClusterIsReviewedThereWhenItNamesNoCluster() throws Exception {
    var response = harness.call("token-of-frontend-in-cluster1",
        Csrs.csr(Csrs.newKey(), "spiffe://cluster.local/ns/default/sa/frontend"));

    X509Certificate leaf = CaHarness.chainOf(response).get(0);
    assertThat(leaf.getSubjectAlternativeNames())
        .containsExactly(List.of(6, "spiffe://cluster.local/ns/default/sa/frontend"));
    assertThat(cluster2.getRequestCount()).isZero();
  }

  @Test
  void callerInARemoteClusterIsReviewedByThatClustersApiServerChosenByTheClusterIdHeader() throws Exception {
    String csr = Csrs.csr(Csrs.newKey());
    var response = harness.call("token-of-reviews-in-cluster2", "cluster2", request(csr));

    List<X509Certificate> chain = CaHarness.chainOf(response);
    assertThat(chain.get(0).getSubjectAlternativeNames())
        .containsExactly(List.of(6, "spiffe://cluster.local/ns/bookinfo/sa/reviews"));
    Chains.verify(chain, chain.get(chain.size() - 1), java.time.Instant.now());
    assertThat(cluster2.getLastRequest().getPath()).isEqualTo("/apis/authentication.k8s.io/v1/tokenreviews");
    assertThat(reviewed).hasSize(1);
    assertThat(reviewed.get(0).get("audiences").toString()).isEqualTo("[\"istio-ca\"]");

    // The same token is not cluster1's: reviewed there, it is refused.
    assertThatThrownBy(() -> harness.call("token-of-reviews-in-cluster2", "cluster1", request(csr)))
        .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
          assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAUTHENTICATED);
          assertThat(e.getStatus().getDescription()).contains("cluster 'cluster1'");
        });
  }

  @Test
  void expiredOrUnknownTokensAreUnauthenticatedWithTheApiServersReason() {
    String csr = Csrs.csr(Csrs.newKey());

    assertThatThrownBy(() -> harness.call("expired-token", "cluster1", request(csr)))
        .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
          assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAUTHENTICATED);
          assertThat(e.getStatus().getDescription()).contains("token has expired");
        });
    assertThatThrownBy(() -> harness.call("made-up", "cluster2", request(csr)))
        .isInstanceOfSatisfying(StatusRuntimeException.class,
            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAUTHENTICATED));
    assertThat(harness.refusals("unauthenticated")).isEqualTo(2);
  }

  @Test
  void aClusterWithoutAClientAndANonServiceAccountUserAreRefused() {
    String csr = Csrs.csr(Csrs.newKey());

    assertThatThrownBy(() -> harness.call("token-of-reviews-in-cluster2", "cluster9", request(csr)))
        .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
          assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAUTHENTICATED);
          assertThat(e.getStatus().getDescription()).contains("cluster 'cluster9' is not known");
        });
    assertThatThrownBy(() -> harness.call("token-of-a-person", "cluster2", request(csr)))
        .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
          assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAUTHENTICATED);
          assertThat(e.getStatus().getDescription()).contains("not a service account");
        });
  }

  @Test
  void csrForAnotherIdentityIsRefusedInKubernetesModeToo() {
    String csr = Csrs.csr(Csrs.newKey(), "spiffe://cluster.local/ns/default/sa/frontend");

    assertThatThrownBy(() -> harness.call("token-of-reviews-in-cluster2", "cluster2", request(csr)))
        .isInstanceOfSatisfying(StatusRuntimeException.class,
            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.PERMISSION_DENIED));
  }

  private static IstioCertificateRequest request(String csr) {
    return IstioCertificateRequest.newBuilder().setCsr(csr).build();
  }

  /**
   * A mock API server whose TokenReview endpoint knows {@code users} (token to user name); the
   * token "expired-token" is refused as expired. Everything else is fabric8's CRUD server.
   */
  private KubernetesMockServer apiServer(Map<String, String> users) {
    Map<ServerRequest, Queue<ServerResponse>> responses = new HashMap<>();
    KubernetesMockServer server = new KubernetesMockServer(new Context(), new MockWebServer(), responses,
        new KubernetesMixedDispatcher(responses), false);
    server.init();
    server.expect().post().withPath("/apis/authentication.k8s.io/v1/tokenreviews")
        .andReply(201, req -> review(req, users)).always();
    return server;
  }

  private TokenReview review(RecordedRequest req, Map<String, String> users) {
    try {
      JsonNode spec = JSON.readTree(req.getUtf8Body()).get("spec");
      reviewed.add(spec);
      String token = spec.get("token").asText();
      TokenReviewBuilder out = new TokenReviewBuilder().withApiVersion("authentication.k8s.io/v1")
          .withKind("TokenReview").withNewSpec().withToken(token).endSpec();
      if (users.containsKey(token)) {
        return out.withNewStatus().withAuthenticated(true).withNewUser().withUsername(users.get(token))
            .endUser().endStatus().build();
      }
      String error = token.equals("expired-token") ? "[invalid bearer token, token has expired]"
          : "[invalid bearer token, square/go-jose: error in cryptographic primitive]";
      return out.withNewStatus().withAuthenticated(false).withError(error).endStatus().build();
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }
}
