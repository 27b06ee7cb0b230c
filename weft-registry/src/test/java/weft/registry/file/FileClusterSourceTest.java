package weft.registry.file;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import weft.model.ConfigProblem;
import weft.registry.ClusterSettings;
import weft.registry.MeshSnapshot;
import weft.registry.Registry;

class FileClusterSourceTest {
  static final String HOST = "web.default.svc.cluster.local";

  @TempDir
  Path dir;
  Registry registry;
  FileClusterSource source;

  @BeforeEach
  void start() throws Exception {
    Files.writeString(dir.resolve("web.yaml"), service(80));
    registry = new Registry();
    registry.addCluster(new ClusterSettings("c1", "", "istio-system"), true);
    source = new FileClusterSource(dir, "c1", registry);
    source.start();
    registry.flush();
  }

  @AfterEach
  void stop() {
    source.close();
    registry.close();
  }

  static String service(int port) {
    return """
        apiVersion: v1
        kind: Service
        metadata: {name: web, namespace: default}
        spec:
          ports: [{name: http, port: %d}]
        """.formatted(port);
  }

  private MeshSnapshot snapshot() {
    return registry.current();
  }

  @Test
  void editsApplyLiveAndDeletingTheFileRemovesItsResources() throws Exception {
    assertThat(snapshot().service(HOST).service().ports().get(0).number()).isEqualTo(80);
    Files.writeString(dir.resolve("web.yaml"), service(8080));
    await().atMost(Duration.ofSeconds(60)).until(() -> snapshot().service(HOST).service().ports().get(0).number() == 8080);
    Files.delete(dir.resolve("web.yaml"));
    await().atMost(Duration.ofSeconds(60)).until(() -> snapshot().service(HOST) == null);
  }

  @Test
  void malformedFileIsReportedAndItsLastGoodContentKeepsServing() throws Exception {
    Files.writeString(dir.resolve("web.yaml"), "kind: Service\nmetadata: {name: [\n");
    await().atMost(Duration.ofSeconds(60)).until(() -> snapshot().problems().stream()
        .anyMatch(p -> p.file().equals("web.yaml") && p.severity() == ConfigProblem.Severity.ERROR));
    assertThat(snapshot().service(HOST)).isNotNull();
    Files.writeString(dir.resolve("web.yaml"), service(81));
    await().atMost(Duration.ofSeconds(60)).until(() -> snapshot().problems().isEmpty()
        && snapshot().service(HOST).service().ports().get(0).number() == 81);
  }

  @Test
  void rejectedEditKeepsTheResourcesLastAcceptedVersionAndOthersStillApply() throws Exception {
    Files.writeString(dir.resolve("web.yaml"), service(70000) + "---\n" + service(80).replace("name: web", "name: api"));
    await().atMost(Duration.ofSeconds(60)).until(() -> snapshot().service("api.default.svc.cluster.local") != null);
    assertThat(snapshot().service(HOST).service().ports().get(0).number()).isEqualTo(80);
    assertThat(snapshot().problems()).anySatisfy(p -> {
      assertThat(p.file()).isEqualTo("web.yaml");
      assertThat(p.resource().name()).isEqualTo("web");
      assertThat(p.field()).contains("port");
    });
  }

  @Test
  void theSameResourceInTwoFilesIsAWarningNamingBothFilesAndTheOneThatServes() throws Exception {
    Files.writeString(dir.resolve("zz-web-copy.yaml"), service(9090));
    await().atMost(Duration.ofSeconds(60)).until(() -> snapshot().service(HOST).service().ports().get(0).number() == 9090);
    await().atMost(Duration.ofSeconds(60)).until(() -> !snapshot().problems().isEmpty());
    assertThat(snapshot().problems()).singleElement().satisfies(p -> {
      assertThat(p.severity()).isEqualTo(ConfigProblem.Severity.WARNING);
      assertThat(p.resource().toString()).isEqualTo("Service default/web");
      assertThat(p.message()).contains("web.yaml, zz-web-copy.yaml").contains("the version in zz-web-copy.yaml serves");
    });
    Files.delete(dir.resolve("zz-web-copy.yaml"));
    await().atMost(Duration.ofSeconds(60)).until(() -> snapshot().problems().isEmpty()
        && snapshot().service(HOST).service().ports().get(0).number() == 80);
  }
}
