package weft.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * credentialName Secrets from {@code --config-dir} files: a running control plane reads them,
 * {@code /debug/status} lists each with its namespace, name and validity (never its bytes), and a
 * broken edit is an error naming the field while the last good version keeps serving.
 */
class CredentialSecretsFromFilesTest {
  static final TestPem FIRST = TestPem.selfSigned("client-one.example.com");
  static final TestPem SECOND = TestPem.selfSigned("client-two.example.com");
  Mesh mesh;

  @BeforeEach
  void start() throws Exception {
    mesh = new Mesh();
  }

  @AfterEach
  void stop() throws Exception {
    mesh.close();
  }

  static String secret(String cert, String key) {
    return """
        apiVersion: v1
        kind: Secret
        metadata: {name: client-credential, namespace: istio-system}
        type: kubernetes.io/tls
        data: {tls.crt: %s, tls.key: %s}
        """.formatted(TestPem.b64(cert), TestPem.b64(key));
  }

  @Test
  void statusShowsTheSecretsValidityNotItsBytesAndABrokenEditKeepsTheLastGood() throws Exception {
    mesh.write("credential.yaml", secret(FIRST.certificate(), FIRST.key()));
    await().atMost(Duration.ofSeconds(60)).until(() -> mesh.debugStatus().contains("CN=client-one.example.com"));
    String status = mesh.debugStatus();
    assertThat(status).contains("\"tlsSecrets\"").contains("client-credential").contains("\"valid\" : true");
    assertNoKeyMaterial(status);

    // The key of another certificate: rejected alone, the first keeps serving.
    mesh.write("credential.yaml", secret(SECOND.certificate(), FIRST.key()));
    await().atMost(Duration.ofSeconds(60)).until(() -> mesh.debugStatus().contains("data.tls.key"));
    status = mesh.debugStatus();
    assertThat(status).contains("not the private key of the first certificate");
    assertThat(tlsSecrets(status)).contains("CN=client-one.example.com").doesNotContain("client-two");
    assertNoKeyMaterial(status);

    mesh.write("credential.yaml", secret(SECOND.certificate(), SECOND.key()));
    await().atMost(Duration.ofSeconds(60)).until(() -> mesh.debugStatus().contains("CN=client-two.example.com"));
    assertThat(mesh.debugStatus()).doesNotContain("data.tls.key");
  }

  /** The status's tlsSecrets list, as text. */
  private static String tlsSecrets(String status) {
    int from = status.indexOf("\"tlsSecrets\"");
    assertThat(from).isNotNegative();
    return status.substring(from, status.indexOf(']', from) + 1);
  }

  private static void assertNoKeyMaterial(String status) {
    for (TestPem p : new TestPem[] {FIRST, SECOND}) {
      for (String line : p.key().lines().toList()) {
        if (!line.startsWith("-----")) assertThat(status).doesNotContain(line);
      }
      assertThat(status).doesNotContain(TestPem.b64(p.key())).doesNotContain(TestPem.b64(p.certificate()));
    }
  }
}
