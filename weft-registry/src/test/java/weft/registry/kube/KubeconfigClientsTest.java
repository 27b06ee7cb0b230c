package weft.registry.kube;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Clients built from checked kubeconfigs reach a CRUD-mode API server with the credentials given. */
class KubeconfigClientsTest {
  MockCluster cluster;

  @BeforeEach
  void setUp() throws Exception {
    cluster = new MockCluster();
    cluster.apply(MockCluster.service("web", 9080));
  }

  @AfterEach
  void tearDown() throws Exception {
    cluster.close();
  }

  static String kubeconfig(String clusterFields, String userFields) {
    return """
        apiVersion: v1
        kind: Config
        clusters:
        - name: remote
          cluster: {%s}
        contexts:
        - name: remote
          context: {cluster: remote, user: reader}
        current-context: remote
        users:
        - name: reader
          user: {%s}
        """.formatted(clusterFields, userFields);
  }

  @Test
  void aTokenKubeconfigListsWithItsBearerToken() throws Exception {
    String url = "http://127.0.0.1:" + cluster.server.getPort();
    KubeConfigs.Checked checked = KubeConfigs.parse("test", "c2",
        kubeconfig("server: \"" + url + "\"", "token: the-remote-token"));
    try (KubernetesClient client = new KubernetesClientBuilder().withConfig(checked.config()).build()) {
      assertThat(client.services().inNamespace("default").list().getItems())
          .extracting(s -> s.getMetadata().getName()).containsExactly("web");
    }
    assertThat(cluster.server.getLastRequest().getHeader("Authorization")).isEqualTo("Bearer the-remote-token");
    assertThat(checked.warnings()).isEmpty();
  }

  @Test
  void aClientCertificateKubeconfigPresentsItsCertificateToAServerThatRequiresOne() throws Exception {
    try (TlsTerminator tls = new TlsTerminator(cluster.server.getPort())) {
      KubeConfigs.Checked checked = KubeConfigs.parse("test", "c2", kubeconfig(
          "server: \"" + tls.url() + "\", certificate-authority-data: " + TestPki.base64(TestPki.CA.certificatePem()),
          "client-certificate-data: " + TestPki.base64(TestPki.CLIENT.certificatePem()) + ", client-key-data: "
              + TestPki.base64(TestPki.CLIENT.keyPem())));
      try (KubernetesClient client = new KubernetesClientBuilder().withConfig(checked.config()).build()) {
        assertThat(client.services().inNamespace("default").list().getItems())
            .extracting(s -> s.getMetadata().getName()).containsExactly("web");
      }
      assertThat(tls.clientCertificates).isNotEmpty().allMatch(c -> c.equals(TestPki.CLIENT.certificate()));
    }
  }

  @Test
  void theControlPlanesOwnKubeconfigFileIsReadByTheSameRules(@TempDir Path tmp) throws Exception {
    String url = "http://127.0.0.1:" + cluster.server.getPort();
    Path good = tmp.resolve("good");
    Files.writeString(good, kubeconfig("server: \"" + url + "\"", "token: local-token"));
    KubeConfigs.Checked checked = KubeConfigs.readFile(good, "c1", null);
    try (KubernetesClient client = new KubernetesClientBuilder().withConfig(checked.config()).build()) {
      assertThat(client.services().inNamespace("default").list().getItems()).hasSize(1);
    }

    Path exec = tmp.resolve("exec");
    Files.writeString(exec, kubeconfig("server: \"" + url + "\"",
        "exec: {apiVersion: client.authentication.k8s.io/v1, command: gke-gcloud-auth-plugin}"));
    assertThatThrownBy(() -> KubeConfigs.readFile(exec, "c1", null))
        .isInstanceOf(InvalidKubeconfigException.class)
        .hasMessageContaining("--kubeconfig " + exec)
        .hasMessageContaining("users[0].user.exec")
        .hasMessageContaining("kubectl config view --minify --flatten");

    Path huge = tmp.resolve("huge");
    Files.writeString(huge, "#" + "x".repeat(KubeConfigs.MAX_BYTES + 1));
    assertThatThrownBy(() -> KubeConfigs.readFile(huge, "c1", null))
        .isInstanceOf(InvalidKubeconfigException.class).hasMessageContaining("1 MiB");
    assertThatThrownBy(() -> KubeConfigs.readFile(tmp, "c1", null))
        .isInstanceOf(InvalidKubeconfigException.class).hasMessageContaining("not a regular file");
  }
}
