package weft.registry.kube;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class InClusterConfigTest {
  static final Map<String, String> POD = Map.of("KUBERNETES_SERVICE_HOST", "10.96.0.1", "KUBERNETES_SERVICE_PORT", "443");

  @TempDir
  Path dir;

  @Test
  void outsideAPodTheMessageSaysSoAndWhatToGiveInstead() {
    assertThatThrownBy(() -> InClusterConfig.read(Map.of(), dir)).hasMessageContaining("KUBERNETES_SERVICE_HOST")
        .hasMessageContaining("--kubeconfig");
  }

  @Test
  void aMissingTokenNamesTheFile() {
    assertThatThrownBy(() -> InClusterConfig.read(POD, dir)).hasMessageContaining(dir.resolve("token").toString())
        .hasMessageContaining("missing");
  }

  @Test
  void aHostileAddressOrTokenIsRefusedAlone() throws Exception {
    assertThatThrownBy(() -> InClusterConfig.read(Map.of("KUBERNETES_SERVICE_HOST", "evil/path?x",
        "KUBERNETES_SERVICE_PORT", "443"), dir)).hasMessageContaining("not a host name");
    assertThatThrownBy(() -> InClusterConfig.read(Map.of("KUBERNETES_SERVICE_HOST", "10.96.0.1",
        "KUBERNETES_SERVICE_PORT", "99999"), dir)).hasMessageContaining("not a port number");
    Files.writeString(dir.resolve("token"), "two words\n");
    assertThatThrownBy(() -> InClusterConfig.read(POD, dir)).hasMessageContaining("does not hold a bearer token");
    Files.writeString(dir.resolve("token"), "abc.def\n");
    Files.writeString(dir.resolve("ca.crt"), "not a certificate");
    assertThatThrownBy(() -> InClusterConfig.read(POD, dir)).hasMessageContaining("is not a PEM certificate");
  }

  @Test
  void theTokenIsReadAgainForEveryRequestSoARotatedOneIsUsed() throws Exception {
    Files.writeString(dir.resolve("token"), "first\n");
    Files.writeString(dir.resolve("ca.crt"), TestPki.CA.certificatePem());
    var config = InClusterConfig.read(POD, dir);
    assertThat(config.getMasterUrl()).startsWith("https://10.96.0.1:443");
    assertThat(config.getOauthTokenProvider().getToken()).isEqualTo("first");
    Files.writeString(dir.resolve("token"), "second\n");
    assertThat(config.getOauthTokenProvider().getToken()).isEqualTo("second");
    Files.delete(dir.resolve("token"));
    assertThat(config.getOauthTokenProvider().getToken()).as("the last good one").isEqualTo("second");
  }
}
