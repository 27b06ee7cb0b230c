package weft.operator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.fabric8.kubernetes.client.Config;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class KubeconfigFileTest {
  @TempDir
  Path dir;

  private Path write(String user, String cluster) throws Exception {
    return Files.writeString(dir.resolve("config"), """
        apiVersion: v1
        kind: Config
        current-context: kind
        contexts: [{name: kind, context: {cluster: kind, user: admin}}]
        clusters: [{name: kind, cluster: %s}]
        users: [{name: admin, user: %s}]
        """.formatted(cluster, user));
  }

  @Test
  void filesItNamesAreReadRelativeToTheKubeconfigsFolder() throws Exception {
    Files.writeString(dir.resolve("token"), "file-token\n");
    Files.writeString(dir.resolve("ca.crt"), "pem");
    Path file = write("{tokenFile: token}", "{server: \"https://10.0.0.1:6443\", certificate-authority: ca.crt}");

    Config config = KubeconfigFile.read(file, null);

    assertThat(config.getMasterUrl()).isEqualTo("https://10.0.0.1:6443/");
    assertThat(config.getOauthToken()).isEqualTo("file-token");
    assertThat(config.getCaCertFile()).isEqualTo(dir.resolve("ca.crt").toString());
    assertThat(config.getAutoConfigure()).isFalse();
  }

  @Test
  void aMissingFileItNamesIsReportedWithItsField() throws Exception {
    Path file = write("{client-certificate: client.crt, client-key-data: a2V5}", "{server: \"https://h:6443\"}");

    assertThatThrownBy(() -> KubeconfigFile.read(file, null)).isInstanceOf(KubeconfigFile.Problem.class)
        .hasMessage(file + ": context kind: field users[0].user.client-certificate: no such file "
            + dir.resolve("client.crt"));
  }

  @Test
  void fieldsItDoesNotSupportAreRefusedRatherThanIgnored() throws Exception {
    Path impersonating = write("{token: t, as: someone-else}", "{server: \"https://h:6443\"}");
    assertThatThrownBy(() -> KubeconfigFile.read(impersonating, null)).hasMessage(impersonating
        + ": context kind: field users[0].user.as: impersonation is not supported; use a context whose user is "
        + "the account itself");

    Path unknown = write("{token: t}", "{server: \"https://h:6443\", tls-server-name: other}");
    assertThatThrownBy(() -> KubeconfigFile.read(unknown, null)).hasMessage(unknown + ": context kind: field "
        + "clusters[0].cluster.tls-server-name is not supported; supported fields are certificate-authority, "
        + "certificate-authority-data, disable-compression, extensions, insecure-skip-tls-verify, proxy-url, server");
  }

  @Test
  void aClusterWithoutAServerIsRefusedInsteadOfFallingBackToInCluster() throws Exception {
    Path file = write("{token: t}", "{insecure-skip-tls-verify: true}");

    assertThatThrownBy(() -> KubeconfigFile.read(file, null)).hasMessage(file + ": context kind: field "
        + "clusters[0].cluster.server is missing; give the API server's https URL");
  }

  @Test
  void noCurrentContextAsksForOneAndListsThem() throws Exception {
    Path file = Files.writeString(dir.resolve("config"), """
        contexts: [{name: a, context: {cluster: a}}, {name: b, context: {cluster: b}}]
        """);

    assertThatThrownBy(() -> KubeconfigFile.read(file, null)).hasMessage(file + ": current-context is not set; "
        + "name a context with --context (the file has: a, b)");
  }
}
