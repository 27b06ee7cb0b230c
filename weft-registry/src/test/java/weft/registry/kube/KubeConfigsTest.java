package weft.registry.kube;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.fabric8.kubernetes.client.Config;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.io.TempDir;
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
  void inlineCredentialsAreAccepted() throws Exception {
    String ca = TestPki.base64(TestPki.SERVER.certificatePem());
    String cert = TestPki.base64(TestPki.CLIENT.certificatePem());
    String key = TestPki.base64(TestPki.CLIENT.keyPem());
    Config c = KubeConfigs.parse(SECRET, "c2", kubeconfig("certificate-authority-data: " + ca,
        "token: abc, client-certificate-data: " + cert + ", client-key-data: " + key)).config();
    assertThat(c.getMasterUrl()).startsWith("https://10.1.0.1:6443");
    assertThat(c.getOauthToken()).isEqualTo("abc");
    assertThat(c.getFile()).isNull(); // a token refresh re-reads nothing
    assertThat(c.getAutoConfigure()).isFalse();
    assertThat(c.getCaCertData()).isEqualTo(ca);
    assertThat(c.getClientCertData()).isEqualTo(cert);
    assertThat(c.getClientKeyData()).isEqualTo(key);
    assertThat(c.getClientKeyAlgo()).isEqualTo("RSA");
    assertThat(c.isTrustCerts()).isFalse();
  }

  @Test
  void nothingComesFromTheEnvironmentNorFromAnotherKubeconfig(@TempDir Path tmp) throws Exception {
    // fabric8's auto-configuration reads these (and KUBECONFIG, ~/.kube/config, the pod's token).
    Path marker = tmp.resolve("ran");
    Path other = tmp.resolve("other-kubeconfig");
    Files.writeString(other, kubeconfig("insecure-skip-tls-verify: true",
        "exec: {apiVersion: client.authentication.k8s.io/v1, command: /bin/sh, args: [-c, 'touch " + marker + "']}")
        .replace("10.1.0.1", "10.9.9.9"));
    Map<String, String> properties = Map.of(Config.KUBERNETES_KUBECONFIG_FILE, other.toString(),
        Config.KUBERNETES_MASTER_SYSTEM_PROPERTY, "https://10.9.9.9:443",
        Config.KUBERNETES_OAUTH_TOKEN_SYSTEM_PROPERTY, "from-the-environment",
        Config.KUBERNETES_HTTPS_PROXY, "http://10.9.9.9:3128");
    properties.forEach(System::setProperty);
    try {
      Config c = KubeConfigs.parse(SECRET, "c2", kubeconfig("insecure-skip-tls-verify: true", "token: abc")).config();
      assertThat(c.getMasterUrl()).startsWith("https://10.1.0.1:6443");
      assertThat(c.getOauthToken()).isEqualTo("abc");
      assertThat(c.getHttpsProxy()).isNull();
      assertThat(c.refresh()).isSameAs(c);
      try (var client = new io.fabric8.kubernetes.client.KubernetesClientBuilder().withConfig(c).build()) {
        assertThat(client.getMasterUrl().toString()).startsWith("https://10.1.0.1:6443");
      }
    } finally {
      properties.keySet().forEach(System::clearProperty);
    }
    assertThat(marker).doesNotExist();
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
      // an alias to a mapping that holds exec
      "'x: &ex {exec: {command: /bin/sh}}\\nusers:\\n- name: weft\\n  user: *ex' | users[0].user.exec",
      // the whole users list behind an alias
      "'x: &list [{name: weft, user: {exec: {command: /bin/sh}}}]\\nusers: *list' | users[0].user.exec",
      // a merge key pulls exec in
      "'x: &ex {exec: {command: /bin/sh}}\\nusers:\\n- name: weft\\n  user: {<<: *ex, token: abc}' | users[0].user.exec"})
  void execBehindAnAliasOrAMergeKeyIsSeenAndRefused(String users, String field) {
    String yaml = """
        apiVersion: v1
        clusters:
        - name: remote
          cluster: {server: "https://10.1.0.1:6443"}
        contexts:
        - name: remote
          context: {cluster: remote, user: weft}
        current-context: remote
        """ + users.replace("\\n", "\n") + "\n";
    // x is not a kubeconfig field, so drop it from the check by naming it extensions
    String kubeconfig = yaml.replace("x: &", "extensions: &");
    assertThatThrownBy(() -> KubeConfigs.parse(SECRET, "c2", kubeconfig))
        .isInstanceOfSatisfying(InvalidKubeconfigException.class, e -> {
          assertThat(e.field()).isEqualTo(field);
          assertThat(e.getMessage()).contains("runs a command");
        });
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
      "'users: {weft: {token: abc}}' | users | must be a list, found a mapping",
      "'users: [weft]' | users[0] | must be a mapping, found a string",
      "'users: [{name: weft, user: [token]}]' | users[0].user | must be a mapping, found a list",
      "'users: [{name: weft, user: {token: 12345}}]' | users[0].user.token | must be a string, found a number",
      "'users: [{name: weft, user: {token: [a]}}]' | users[0].user.token | must be a string, found a list",
      "'users: [{name: 7, user: {token: a}}]' | users[0].name | must be a string",
      "'users: [{name: weft, user: {token: a}}, {name: weft, user: {token: b}}]' | users[1].name | a second entry",
      "'users: [{name: weft, user: {as: x, as-groups: {a: b}}}]' | users[0].user.as-groups | must be a list",
      "'users: [{name: weft, user: {token: \"a\\x1b[2Jb\"}}]' | users[0].user.token | control character",
      "'users: [{name: weft, user: {client-certificate-data: Y2VydA==}}]' | users[0].user.client-key-data | go together",
      "'users: [{name: weft, user: {token: a}}]\\ncontexts: {remote: {}}' | contexts | must be a list",
      "'users: [{name: weft, user: {token: a}}]\\nclusters: {remote: {}}' | clusters | must be a list"})
  void wrongTypesAnywhereAreRefusedWithTheFieldPathNamedAndNoExceptionEscapes(String users, String field,
      String why) {
    String yaml = """
        apiVersion: v1
        clusters:
        - name: remote
          cluster: {server: "https://10.1.0.1:6443"}
        contexts:
        - name: remote
          context: {cluster: remote, user: weft}
        current-context: remote
        """;
    String replacing = users.replace("\\n", "\n");
    if (replacing.contains("\ncontexts:")) yaml = yaml.replaceAll("(?s)contexts:.*?current-context", "current-context");
    if (replacing.contains("\nclusters:")) yaml = yaml.replaceAll("(?s)clusters:.*?contexts:", "contexts:");
    String kubeconfig = yaml + replacing + "\n";
    assertThatThrownBy(() -> KubeConfigs.parse(SECRET, "c2", kubeconfig))
        .isInstanceOfSatisfying(InvalidKubeconfigException.class, e -> {
          assertThat(e.field()).isEqualTo(field);
          assertThat(e.getMessage()).contains(SECRET, "cluster c2", field, why);
        });
  }

  @Test
  void aliasBombsDuplicateKeysAndOversizeTextAreRefusedQuickly() {
    StringBuilder bomb = new StringBuilder("a: &a [x, x, x, x, x, x, x, x, x, x]\n");
    for (char c = 'b'; c <= 'k'; c++) {
      char p = (char) (c - 1);
      bomb.append(c).append(": &").append(c).append(" [*").append(p).append(", *").append(p).append(", *").append(p)
          .append(", *").append(p).append(", *").append(p).append(", *").append(p).append("]\n");
    }
    assertThatThrownBy(() -> KubeConfigs.parse(SECRET, "c2", bomb.toString()))
        .isInstanceOf(InvalidKubeconfigException.class).hasMessageContaining("not valid YAML");
    String duplicate = kubeconfig("insecure-skip-tls-verify: true", "token: abc") + "current-context: other\n";
    assertThatThrownBy(() -> KubeConfigs.parse(SECRET, "c2", duplicate))
        .isInstanceOf(InvalidKubeconfigException.class).hasMessageContaining("not valid YAML");
    String huge = kubeconfig("insecure-skip-tls-verify: true", "token: abc") + "#" + "x".repeat(KubeConfigs.MAX_BYTES);
    assertThatThrownBy(() -> KubeConfigs.parse(SECRET, "c2", huge))
        .isInstanceOf(InvalidKubeconfigException.class).hasMessageContaining("1 MiB");
  }

  @Test
  void skippingTlsVerificationIsAcceptedWithAWarningButNotBesideACertificateAuthority() throws Exception {
    KubeConfigs.Checked c = KubeConfigs.parse(SECRET, "c2", kubeconfig("insecure-skip-tls-verify: true", "token: a"));
    assertThat(c.config().isTrustCerts()).isTrue();
    assertThat(c.warnings()).containsKey("clusters[0].cluster.insecure-skip-tls-verify");
    String both = kubeconfig("insecure-skip-tls-verify: true, certificate-authority-data: "
        + TestPki.base64(TestPki.SERVER.certificatePem()), "token: a");
    assertThatThrownBy(() -> KubeConfigs.parse(SECRET, "c2", both))
        .isInstanceOfSatisfying(InvalidKubeconfigException.class,
            e -> assertThat(e.field()).isEqualTo("clusters[0].cluster.insecure-skip-tls-verify"));
  }

  @Test
  void certificateDataThatIsNotACertificateIsRefusedNamingTheField() {
    assertThatThrownBy(() -> KubeConfigs.parse(SECRET, "c2", kubeconfig("certificate-authority-data: Y2E=",
        "token: a")))
        .isInstanceOfSatisfying(InvalidKubeconfigException.class,
            e -> assertThat(e.field()).isEqualTo("clusters[0].cluster.certificate-authority-data"));
  }

  @Test
  void proxiesOtherThanHttpAreRefusedRatherThanBypassed() throws Exception {
    KubeConfigs.Checked c = KubeConfigs.parse(SECRET, "c2", kubeconfig("proxy-url: \"http://u:p@10.0.0.9:3128\"",
        "token: a"));
    assertThat(c.config().getHttpsProxy()).isEqualTo("http://10.0.0.9:3128");
    assertThat(c.config().getProxyUsername()).isEqualTo("u");
    assertThatThrownBy(() -> KubeConfigs.parse(SECRET, "c2", kubeconfig("proxy-url: \"socks5://10.0.0.9:1080\"",
        "token: a")))
        .isInstanceOfSatisfying(InvalidKubeconfigException.class,
            e -> assertThat(e.field()).isEqualTo("clusters[0].cluster.proxy-url"));
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
      "'exec: {apiVersion: client.authentication.k8s.io/v1, command: /bin/sh}' | users[0].user.exec | runs a command",
      "'auth-provider: {name: gcp}' | users[0].user.auth-provider | credential helper",
      "tokenFile: /var/run/secrets/token | users[0].user.tokenFile | reads a file",
      "client-certificate: /etc/weft/cert.pem | users[0].user.client-certificate | client-certificate-data",
      "client-key: /etc/weft/key.pem | users[0].user.client-key | client-key-data",
      "as-uid: '1000' | users[0].user.as-uid | cannot send",
      "tokenCommand: id | users[0].user.tokenCommand | is not a user field"})
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
