package weft.registry.kube;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import weft.model.ConfigProblem;
import weft.model.ResourceId;
import weft.model.TlsSecret;
import weft.registry.ChangeEvent;
import weft.registry.ClusterSettings;
import weft.registry.Registry;

/**
 * credentialName Secrets from the config cluster's API server (fabric8's CRUD mock server): read in
 * every namespace and checked, a bad edit rejected alone while the last good version keeps serving,
 * a change announced as a Secret change, never read from a cluster that is not a config cluster,
 * and never written to the state file.
 */
class KubeSecretsTest {
  static final Duration WAIT = Duration.ofSeconds(60);
  static final ResourceId CREDENTIAL = new ResourceId("Secret", "istio-system", "client-credential");

  @TempDir Path tmp;
  MockCluster cluster;
  Registry registry;
  KubeClusterSource source;
  final List<ChangeEvent> changes = new java.util.concurrent.CopyOnWriteArrayList<>();

  @BeforeEach
  void setUp() throws Exception {
    cluster = new MockCluster();
    registry = new Registry();
    registry.addListener((snapshot, change) -> changes.add(change));
  }

  @AfterEach
  void tearDown() throws Exception {
    if (source != null) source.close();
    registry.close();
    cluster.close();
  }

  void start(boolean configCluster, StateStore state) throws Exception {
    registry.addCluster(new ClusterSettings("c2", "net2", "istio-system"), configCluster);
    KubernetesClient client = new KubernetesClientBuilder()
        .withConfig(KubeConfigs.parse("test", "c2", cluster.kubeconfig("t0")).config()).build();
    source = new KubeClusterSource("c2", client, configCluster, registry, state, MockCluster.FAST, true);
    source.start();
    assertThat(source.awaitSynced(WAIT)).isTrue();
  }

  static String secret(String namespace, String name, String cert, String key) {
    return """
        apiVersion: v1
        kind: Secret
        metadata: {name: %s, namespace: %s}
        type: kubernetes.io/tls
        data: {tls.crt: %s, tls.key: %s, ca.crt: %s}
        """.formatted(name, namespace, TestPki.base64(cert), TestPki.base64(key),
        TestPki.base64(TestPki.CA.certificatePem()));
  }

  TlsSecret served(ResourceId id) {
    return registry.current().secrets().get(id);
  }

  @Test
  void secretsOfTheConfigClusterAreCheckedServedAndABadEditKeepsTheLastGood() throws Exception {
    cluster.apply(secret("istio-system", "client-credential", TestPki.CLIENT.certificatePem(),
        TestPki.CLIENT.keyPem()));
    cluster.apply(secret("bookinfo", "reviews-credential", TestPki.SERVER.certificatePem(), TestPki.SERVER.keyPem()));
    start(true, null);
    assertThat(served(CREDENTIAL).certificateChain()).isEqualTo(TestPki.CLIENT.certificatePem());
    assertThat(served(new ResourceId("Secret", "bookinfo", "reviews-credential"))).isNotNull();

    // Rotation: the new certificate serves, announced as a change of that Secret alone.
    changes.clear();
    cluster.apply(secret("istio-system", "client-credential", TestPki.SERVER.certificatePem(),
        TestPki.SERVER.keyPem()));
    await().atMost(WAIT).until(() -> TestPki.SERVER.certificatePem().equals(served(CREDENTIAL).certificateChain()));
    assertThat(changes).anySatisfy(c -> {
      assertThat(c.secrets()).containsExactly(CREDENTIAL);
      assertThat(c.secretsOnly()).isTrue();
    });

    // A key that is not the certificate's: rejected alone, the last good keeps serving.
    cluster.apply(secret("istio-system", "client-credential", TestPki.CLIENT.certificatePem(),
        TestPki.SERVER.keyPem()));
    await().atMost(WAIT).until(() -> !errors().isEmpty());
    assertThat(errors()).singleElement().satisfies(p -> {
      assertThat(p.resource()).isEqualTo(CREDENTIAL);
      assertThat(p.field()).isEqualTo("data.tls.key");
      assertThat(p.message()).contains("not the private key");
      assertThat(p.describe()).doesNotContain(TestPki.base64(TestPki.SERVER.keyPem()));
    });
    assertThat(served(CREDENTIAL).certificateChain()).isEqualTo(TestPki.SERVER.certificatePem());
    assertThat(served(new ResourceId("Secret", "bookinfo", "reviews-credential"))).isNotNull();

    cluster.delete("v1", "Secret", "istio-system", "client-credential");
    await().atMost(WAIT).until(() -> served(CREDENTIAL) == null && errors().isEmpty());
  }

  @Test
  void aClusterThatIsNotAConfigClusterContributesNoSecret() throws Exception {
    cluster.apply(secret("istio-system", "client-credential", TestPki.CLIENT.certificatePem(),
        TestPki.CLIENT.keyPem()));
    cluster.apply(MockCluster.service("web", 9080));
    start(false, null);
    await().atMost(WAIT).until(() -> registry.current().service("web.default.svc.cluster.local") != null);
    assertThat(registry.current().secrets()).isEmpty();
  }

  @Test
  void theStateFileNeverHoldsASecret() throws Exception {
    StateStore state = new StateStore(tmp.resolve("state"));
    cluster.apply(secret("istio-system", "client-credential", TestPki.CLIENT.certificatePem(),
        TestPki.CLIENT.keyPem()));
    cluster.apply(MockCluster.service("web", 9080));
    start(true, state);
    assertThat(served(CREDENTIAL)).isNotNull();
    source.close();
    source = null;
    List<Path> files;
    try (var list = Files.list(tmp.resolve("state"))) {
      files = list.toList();
    }
    assertThat(files).isNotEmpty();
    String saved = String.join("\n", files.stream().map(KubeSecretsTest::read).toList());
    assertThat(saved).contains("\"web\"").doesNotContain("client-credential")
        .doesNotContain(TestPki.base64(TestPki.CLIENT.keyPem()));
  }

  private static String read(Path p) {
    try {
      return Files.readString(p);
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  private List<ConfigProblem> errors() {
    return registry.current().problems().stream().filter(p -> p.severity() == ConfigProblem.Severity.ERROR).toList();
  }
}
