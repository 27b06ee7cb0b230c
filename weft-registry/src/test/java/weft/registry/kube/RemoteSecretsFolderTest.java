package weft.registry.kube;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import weft.registry.testing.Fifos;
import weft.model.ConfigProblem;
import weft.model.parse.InputLimits;
import weft.registry.ClusterSettings;
import weft.registry.Registry;

/**
 * {@code --remote-secrets-dir} is read like every watched folder: a FIFO is skipped (never
 * opened), a 10 MB file is refused by its size before it is parsed, and a good secret written
 * after them still adds its cluster.
 */
class RemoteSecretsFolderTest {
  static final String NS = "istio-system";
  static final Duration WAIT = Duration.ofSeconds(30);

  @TempDir
  Path secretsDir;
  MockCluster c2;
  Registry registry;
  RemoteSecretController controller;

  @BeforeEach
  void setUp() throws Exception {
    c2 = new MockCluster();
    c2.apply(MockCluster.service("web", 9080));
  }

  @AfterEach
  void tearDown() throws Exception {
    if (controller != null) controller.close();
    if (registry != null) registry.close();
    c2.close();
  }

  private String secret(String kubeconfig) {
    return """
        apiVersion: v1
        kind: Secret
        metadata:
          name: istio-remote-secret-c2
          namespace: istio-system
          labels: {istio/multiCluster: "true"}
        stringData:
          c2: |
        %s""".formatted(kubeconfig.indent(4));
  }

  private ConfigProblem problemOf(String file) {
    return registry.current().problems().stream().filter(p -> p.file() != null && p.file().endsWith(file))
        .findFirst().orElse(null);
  }

  @Test
  void fifoAndOversizedFileAreReportedAndALaterSecretStillAddsItsCluster() throws Exception {
    Fifos.make(secretsDir.resolve("fifo.yaml"));
    // 10 MB of one base64-like value: the size refuses it before any parsing.
    Files.writeString(secretsDir.resolve("big.yaml"), secret("x".repeat(10 * 1024 * 1024)));

    registry = new Registry();
    registry.addCluster(new ClusterSettings("c1", "net1", NS), true);
    controller = new RemoteSecretController("c1", NS, null, secretsDir, registry, null,
        id -> new ClusterSettings(id, "", NS), MockCluster.FAST);
    controller.start();

    Files.writeString(secretsDir.resolve("c2.tmp"), secret(c2.kubeconfig("token-1")));
    Files.move(secretsDir.resolve("c2.tmp"), secretsDir.resolve("c2.yaml"), StandardCopyOption.ATOMIC_MOVE);

    await().atMost(WAIT).until(() -> registry.current().clusters().containsKey("c2"));
    await().atMost(WAIT).until(() -> problemOf("big.yaml") != null && problemOf("fifo.yaml") != null);
    assertThat(problemOf("big.yaml").severity()).isEqualTo(ConfigProblem.Severity.ERROR);
    assertThat(problemOf("big.yaml").message()).contains("4 MiB", String.valueOf(InputLimits.MAX_FILE_BYTES));
    assertThat(problemOf("fifo.yaml").message()).contains("FIFO");
  }
}
