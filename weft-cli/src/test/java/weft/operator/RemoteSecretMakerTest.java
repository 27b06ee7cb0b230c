package weft.operator;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.authentication.TokenRequestBuilder;
import io.fabric8.kubernetes.client.NamespacedKubernetesClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMixedDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import io.fabric8.mockwebserver.ServerRequest;
import io.fabric8.mockwebserver.ServerResponse;
import java.util.HashMap;
import java.util.Map;
import java.util.Queue;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class RemoteSecretMakerTest {
  KubernetesMockServer server;
  NamespacedKubernetesClient client;

  @BeforeEach
  void start() {
    Map<ServerRequest, Queue<ServerResponse>> responses = new HashMap<>();
    server = new KubernetesMockServer(new Context(), new MockWebServer(), responses,
        new KubernetesMixedDispatcher(responses), false);
    server.init();
    client = server.createClient();
    // The CRUD server has no token minting; answer that one endpoint as a real API server would.
    server.expect().post()
        .withPath("/api/v1/namespaces/istio-system/serviceaccounts/istio-reader-service-account/token")
        .andReturn(201, new TokenRequestBuilder().withNewStatus().withToken("minted-token-1").endStatus().build())
        .always();
  }

  @AfterEach
  void stop() {
    client.close();
    server.destroy();
  }

  @Test
  void createsAReadOnlyAccountAndAnIstioFormatSecretWithAnInlineKubeconfig() throws Exception {
    Secret secret = new RemoteSecretMaker(client).make("cluster2", "istio-system", "istio-reader-service-account", 3600);

    assertThat(client.serviceAccounts().inNamespace("istio-system").withName("istio-reader-service-account").get())
        .isNotNull();
    var role = client.rbac().clusterRoles().withName("istio-reader-service-account-istio-system").get();
    // Read-only everywhere; the one write is creating TokenReviews, which the CA needs.
    assertThat(role.getRules()).allSatisfy(r -> {
      if (r.getResources().equals(java.util.List.of("tokenreviews"))) {
        assertThat(r.getVerbs()).containsExactly("create");
      } else {
        assertThat(r.getVerbs()).containsExactly("get", "list", "watch");
      }
    });
    assertThat(client.rbac().clusterRoleBindings().withName("istio-reader-service-account-istio-system").get()
        .getSubjects().get(0).getName()).isEqualTo("istio-reader-service-account");

    assertThat(secret.getMetadata().getLabels()).containsEntry("istio/multiCluster", "true");
    assertThat(secret.getMetadata().getName()).isEqualTo("istio-remote-secret-cluster2");
    JsonNode kubeconfig = new ObjectMapper(new YAMLFactory()).readTree(secret.getStringData().get("cluster2"));
    assertThat(kubeconfig.at("/users/0/user/token").asText()).isEqualTo("minted-token-1");
    assertThat(kubeconfig.at("/clusters/0/cluster/server").asText()).startsWith("http");
    assertThat(kubeconfig.at("/current-context").asText()).isEqualTo("cluster2");
    assertThat(kubeconfig.toString()).doesNotContain("exec", "tokenFile", "client-certificate\"");
    assertThat(RemoteSecretMaker.toYaml(secret)).contains("istio/multiCluster").contains("cluster2");
  }
}
