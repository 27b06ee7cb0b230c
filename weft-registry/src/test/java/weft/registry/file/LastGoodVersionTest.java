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
import weft.registry.ServiceView;

/**
 * Whatever breaks a resource's document (apiVersion, name, kind spelling, a field), its last good
 * version keeps serving; only deleting the document withdraws it. Each test waits on the problem
 * being reported (the edit has been read) and then checks what serves.
 */
class LastGoodVersionTest {
  private static final Duration WAIT = Duration.ofSeconds(30);
  private static final String HOST = "echo.default.svc.cluster.local";
  private static final String SERVICE = """
      apiVersion: v1
      kind: Service
      metadata: {name: echo, namespace: default}
      spec:
        selector: {app: echo}
        ports: [{name: grpc, port: 9080}]
      """;
  private static final String SLICE = """
      apiVersion: discovery.k8s.io/v1
      kind: EndpointSlice
      metadata: {name: echo-1, namespace: default, labels: {kubernetes.io/service-name: echo}}
      addressType: IPv4
      ports: [{name: grpc, port: 9080}]
      endpoints:
      - addresses: ["10.0.0.1"]
      - addresses: ["10.0.0.2"]
      """;

  @TempDir
  Path dir;
  Registry registry;
  FileClusterSource source;

  @BeforeEach
  void start() throws Exception {
    Files.writeString(dir.resolve("echo.yaml"), SERVICE + "---\n" + SLICE);
    registry = new Registry();
    registry.addCluster(new ClusterSettings("c1", "", "istio-system"), true);
    source = new FileClusterSource(dir, "c1", registry);
    source.start();
    registry.flush();
    assertThat(endpoints()).containsExactly("10.0.0.1", "10.0.0.2");
  }

  @AfterEach
  void stop() {
    source.close();
    registry.close();
  }

  private MeshSnapshot snapshot() {
    return registry.current();
  }

  private java.util.List<String> endpoints() {
    ServiceView view = snapshot().service(HOST);
    return view == null ? java.util.List.of() : view.endpoints().stream().map(e -> e.address()).toList();
  }

  private ConfigProblem awaitError(String field) {
    await().atMost(WAIT).until(() -> snapshot().problems().stream()
        .anyMatch(p -> p.severity() == ConfigProblem.Severity.ERROR && field.equals(p.field())));
    return snapshot().problems().stream().filter(p -> field.equals(p.field())).findFirst().orElseThrow();
  }

  private void edit(String slice) throws Exception {
    Files.writeString(dir.resolve("echo.yaml"), SERVICE + "---\n" + slice);
  }

  @Test
  void wrongApiVersionIsReportedAndTheEndpointsKeepServing() throws Exception {
    edit(SLICE.replace("discovery.k8s.io/v1", "discovery.k8s.io/v1beta1").replace("10.0.0.2", "10.0.0.3"));

    ConfigProblem p = awaitError("apiVersion");
    assertThat(p.file()).isEqualTo("echo.yaml");
    assertThat(p.message()).contains("v1beta1", "discovery.k8s.io/v1");
    assertThat(endpoints()).containsExactly("10.0.0.1", "10.0.0.2");

    edit(SLICE.replace("10.0.0.2", "10.0.0.3"));
    await().atMost(WAIT).until(() -> endpoints().equals(java.util.List.of("10.0.0.1", "10.0.0.3")));
    assertThat(snapshot().problems()).isEmpty();
  }

  @Test
  void nonStringNameIsReportedAndTheEndpointsKeepServing() throws Exception {
    edit(SLICE.replace("name: echo-1,", "name: [echo-1],"));

    assertThat(awaitError("metadata.name").message()).contains("not a string");
    assertThat(endpoints()).containsExactly("10.0.0.1", "10.0.0.2");
  }

  @Test
  void misspeltKindIsReportedWithASuggestionAndTheEndpointsKeepServing() throws Exception {
    edit(SLICE.replace("kind: EndpointSlice", "kind: EndpointSlise"));

    assertThat(awaitError("kind").message()).contains("did you mean EndpointSlice?");
    assertThat(endpoints()).containsExactly("10.0.0.1", "10.0.0.2");
  }

  @Test
  void brokenFieldKeepsTheEndpointsAndDeletingTheDocumentWithdrawsThem() throws Exception {
    edit(SLICE.replace("port: 9080}]\nendpoints", "port: 99999}]\nendpoints"));
    awaitError("ports[0].port");
    assertThat(endpoints()).containsExactly("10.0.0.1", "10.0.0.2");

    Files.writeString(dir.resolve("echo.yaml"), SERVICE);
    await().atMost(WAIT).until(() -> endpoints().isEmpty() && snapshot().problems().isEmpty());
    assertThat(snapshot().service(HOST)).isNotNull();
  }
}
