package weft.registry.kube;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.fabric8.kubernetes.client.Config;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

class KubeConfigsTest {
  static final String SECRET = "cluster c1 API server: Secret istio-system/istio-remote-secret-c2";

  static String kubeconfig(String clusterFields, String userFields) {
    return """
        apiVersion: v1
        kind: Config
        clusters:
        - name: remote
          cluster: {server: "https://10.1.0.1:6443", %s}
        contexts:
        - name: remote
          context: {cluster: remote, user: weft}
        current-context: remote
        users:
        - name: weft
          user: {%s}
        """.formatted(clusterFields, userFields);
  }

  @Test
  void inlineCredentialsAreAcceptedAndNothingComesFromTheEnvironment() throws Exception {
    Config c = KubeConfigs.parse(SECRET, "c2", kubeconfig("certificate-authority-data: Y2E=",
        "token: abc, client-certificate-data: Y2VydA==, client-key-data: a2V5"));
    assertThat(c.getMasterUrl()).isEqualTo("https://10.1.0.1:6443/");
    assertThat(c.getAutoOAuthToken()).isEqualTo("abc");
    assertThat(c.getFile()).isNull(); // a token refresh re-reads nothing
    assertThat(c.getCaCertData()).isEqualTo("Y2E=");
    assertThat(c.getClientCertData()).isEqualTo("Y2VydA==");
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
      "'exec: {apiVersion: client.authentication.k8s.io/v1, command: /bin/sh}' | users[0].user.exec | runs a command",
      "'auth-provider: {name: gcp}' | users[0].user.auth-provider | credential helper",
      "tokenFile: /var/run/secrets/token | users[0].user.tokenFile | reads a file",
      "client-certificate: /etc/weft/cert.pem | users[0].user.client-certificate | client-certificate-data",
      "client-key: /etc/weft/key.pem | users[0].user.client-key | client-key-data",
      "tokenCommand: id | users[0].user.tokenCommand | is not allowed"})
  void userFieldsThatReadLocalFilesOrRunCommandsAreRefusedNamingSecretClusterAndField(String user, String field,
      String why) {
    assertThatThrownBy(() -> KubeConfigs.parse(SECRET, "c2", kubeconfig("insecure-skip-tls-verify: true", user)))
        .isInstanceOfSatisfying(InvalidKubeconfigException.class, e -> {
          assertThat(e.field()).isEqualTo(field);
          assertThat(e.clusterId()).isEqualTo("c2");
          assertThat(e.getMessage()).contains(SECRET, "cluster c2", field, why);
        });
  }

  @Test
  void certificateAuthorityAsAFilePathIsRefused() {
    assertThatThrownBy(() -> KubeConfigs.parse(SECRET, "c2", kubeconfig("certificate-authority: /etc/ssl/ca.pem",
        "token: abc")))
        .isInstanceOfSatisfying(InvalidKubeconfigException.class, e -> {
          assertThat(e.field()).isEqualTo("clusters[0].cluster.certificate-authority");
          assertThat(e.getMessage()).contains("certificate-authority-data");
        });
  }

  @Test
  void entriesTheCurrentContextDoesNotUseAreCheckedToo() {
    String yaml = kubeconfig("insecure-skip-tls-verify: true", "token: abc")
        + "- name: other\n  user: {exec: {command: /bin/sh}}\n";
    assertThatThrownBy(() -> KubeConfigs.parse(SECRET, "c2", yaml))
        .isInstanceOfSatisfying(InvalidKubeconfigException.class,
            e -> assertThat(e.field()).isEqualTo("users[1].user.exec"));
  }

  @Test
  void aKubeconfigWithoutAServerForItsContextIsRefusedRatherThanFallingBackToTheInClusterAddress() {
    String noContext = kubeconfig("insecure-skip-tls-verify: true", "token: abc").replace("current-context: remote\n", "");
    assertThatThrownBy(() -> KubeConfigs.parse(SECRET, "c2", noContext))
        .isInstanceOfSatisfying(InvalidKubeconfigException.class,
            e -> assertThat(e.field()).isEqualTo("current-context"));
    String noServer = kubeconfig("insecure-skip-tls-verify: true", "token: abc").replace("server: \"https://10.1.0.1:6443\", ", "");
    assertThatThrownBy(() -> KubeConfigs.parse(SECRET, "c2", noServer))
        .isInstanceOfSatisfying(InvalidKubeconfigException.class,
            e -> assertThat(e.getMessage()).contains("no server URL"));
  }

  @Test
  void textThatIsNotAKubeconfigIsRefused() {
    assertThatThrownBy(() -> KubeConfigs.parse(SECRET, "c2", "clusters: [")).isInstanceOf(InvalidKubeconfigException.class)
        .hasMessageContaining("not valid YAML");
    assertThatThrownBy(() -> KubeConfigs.parse(SECRET, "c2", "")).isInstanceOf(InvalidKubeconfigException.class)
        .hasMessageContaining("empty");
  }
}
