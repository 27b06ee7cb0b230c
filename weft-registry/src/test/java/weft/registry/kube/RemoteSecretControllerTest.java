package weft.registry.kube;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import weft.model.ConfigProblem;
import weft.model.ResourceId;
import weft.registry.ClusterSettings;
import weft.registry.MeshSnapshot;
import weft.registry.Registry;
import weft.registry.ServiceView;
import weft.registry.WorkloadEndpoint;

/**
 * A control plane for cluster c1 (its own config cluster, a CRUD-mode API server) that learns of
 * cluster c2 (another API server, reached through a proxy that can be cut) from remote secrets.
 */
class RemoteSecretControllerTest {
  static final String NS = "istio-system";
  static final String WEB = "web.default.svc.cluster.local";
  static final String API = "api.default.svc.cluster.local";
  static final Duration WAIT = Duration.ofSeconds(60);

  @TempDir
  Path stateDir;
  @TempDir
  Path secretsDir;

  MockCluster c1;
  MockCluster c2;
  final List<AutoCloseable> closeables = new ArrayList<>();
  Registry registry;
  RemoteSecretController controller;

  @BeforeEach
  void setUp() throws Exception {
    c1 = new MockCluster();
    c2 = new MockCluster();
    c2.apply(MockCluster.service("web", 9080));
    c2.apply(MockCluster.slice("web", "10.2.0.1"));
    c2.apply(MockCluster.pod("web-a", "web", "10.2.0.1"));
  }

  @AfterEach
  void tearDown() throws Exception {
    for (int i = closeables.size() - 1; i >= 0; i--) closeables.get(i).close();
    c1.close();
    c2.close();
  }

  /** Registry + controller, as a control plane for c1 starts them. */
  void startControlPlane(Path secretsFolder) throws Exception {
    registry = new Registry();
    registry.addCluster(new ClusterSettings("c1", "net1", NS), true);
    controller = new RemoteSecretController("c1", NS, c1.admin, secretsFolder, registry, stateDir,
        id -> new ClusterSettings(id, "", NS), MockCluster.FAST);
    closeables.add(registry);
    closeables.add(controller);
    controller.start();
  }

  void stopControlPlane() throws Exception {
    controller.close();
    registry.close();
    closeables.remove(controller);
    closeables.remove(registry);
  }

  void putSecret(String name, Map<String, String> kubeconfigs) {
    Map<String, String> data = new java.util.TreeMap<>();
    kubeconfigs.forEach((k, v) -> data.put(k, Base64.getEncoder().encodeToString(v.getBytes(StandardCharsets.UTF_8))));
    Secret secret = new SecretBuilder().withNewMetadata().withName(name).withNamespace(NS)
        .addToLabels("istio/multiCluster", "true").endMetadata().withData(data).build();
    var resource = c1.admin.secrets().inNamespace(NS).resource(secret);
    if (resource.get() == null) resource.create(); else resource.update();
  }

  void deleteSecret(String name) {
    c1.admin.secrets().inNamespace(NS).withName(name).delete();
  }

  MeshSnapshot snapshot() {
    return registry.current();
  }

  List<String> addresses(String host) {
    ServiceView v = snapshot().service(host);
    return v == null ? List.of() : v.endpoints().stream().map(WorkloadEndpoint::address).sorted().toList();
  }

  MeshSnapshot.ClusterStatus status(String id) {
    return snapshot().clusters().get(id);
  }

  List<ConfigProblem> problemsOf(String secretName) {
    return snapshot().problems().stream()
        .filter(p -> new ResourceId("Secret", NS, secretName).equals(p.resource())).toList();
  }

  @Test
  void remoteClusterFromASecretServesItsEndpointsUnderItsIdAndLeavesWithTheSecret() throws Exception {
    startControlPlane(null);
    putSecret("istio-remote-secret-c2", Map.of("c2", c2.kubeconfig("token-1")));
    await().atMost(WAIT).until(() -> addresses(WEB).equals(List.of("10.2.0.1")));
    WorkloadEndpoint e = snapshot().service(WEB).endpoints().get(0);
    assertThat(e.clusterId()).isEqualTo("c2");
    assertThat(e.serviceAccount()).isEqualTo("web");

    c2.apply(MockCluster.slice("web", "10.2.0.1", "10.2.0.2"));
    await().atMost(WAIT).until(() -> addresses(WEB).equals(List.of("10.2.0.1", "10.2.0.2")));
    c2.apply(MockCluster.service("api", 7070));
    c2.apply(MockCluster.slice("api", "10.2.1.1"));
    await().atMost(WAIT).until(() -> addresses(API).equals(List.of("10.2.1.1")));
    c2.delete("v1", "Service", "default", "api");
    await().atMost(WAIT).until(() -> snapshot().service(API) == null);

    deleteSecret("istio-remote-secret-c2");
    await().atMost(WAIT).until(() -> !snapshot().clusters().containsKey("c2"));
    assertThat(snapshot().service(WEB)).isNull();
    assertThat(new StateStore(stateDir).file("c2")).doesNotExist();
  }

  @Test
  void cutRemoteClusterKeepsServingMarkedStaleAndCatchesUpWhenBack() throws Exception {
    c2.apply(MockCluster.service("api", 7070));
    c2.apply(MockCluster.slice("api", "10.2.1.1"));
    startControlPlane(null);
    putSecret("istio-remote-secret-c2", Map.of("c2", c2.kubeconfig("token-1")));
    await().atMost(WAIT).until(() -> addresses(WEB).size() == 1 && addresses(API).size() == 1);

    c2.proxy.cut();
    await().atMost(WAIT).until(() -> status("c2").stale());
    assertThat(addresses(WEB)).containsExactly("10.2.0.1");
    assertThat(status("c1").stale()).isFalse();

    c2.apply(MockCluster.slice("web", "10.2.0.1", "10.2.0.3"));
    c2.delete("v1", "Service", "default", "api");
    c2.proxy.restore();
    await().atMost(WAIT).until(() -> !status("c2").stale()
        && addresses(WEB).equals(List.of("10.2.0.1", "10.2.0.3")) && snapshot().service(API) == null);
  }

  @Test
  void controlPlaneRestartedWhileARemoteClusterIsDownServesItsSavedStateMarkedStale() throws Exception {
    c2.apply(MockCluster.service("api", 7070));
    c2.apply(MockCluster.slice("api", "10.2.1.1"));
    startControlPlane(null);
    putSecret("istio-remote-secret-c2", Map.of("c2", c2.kubeconfig("token-1")));
    assertThat(controller.awaitInitialSync(WAIT)).isEmpty();
    await().atMost(WAIT).until(() -> addresses(WEB).size() == 1);
    Path stateFile = new StateStore(stateDir).file("c2");
    await().atMost(WAIT).until(() -> Files.exists(stateFile) && Files.readString(stateFile).contains("10.2.1.1"));
    stopControlPlane();

    c2.proxy.cut();
    c2.delete("v1", "Service", "default", "api"); // happens while nobody can see it
    // A cut API server must not hold start-up: the bound only catches a hang, never a slow machine.
    Map<String, String> notSynced = assertTimeoutPreemptively(Duration.ofSeconds(60), () -> {
      startControlPlane(null);
      return controller.awaitInitialSync(Duration.ofSeconds(2));
    });
    assertThat(notSynced).containsOnlyKeys("c2");
    assertThat(notSynced.get("c2")).contains(c2.proxy.url());

    registry.flush();
    assertThat(addresses(WEB)).containsExactly("10.2.0.1");
    assertThat(snapshot().service(WEB).endpoints().get(0).clusterId()).isEqualTo("c2");
    assertThat(addresses(API)).containsExactly("10.2.1.1");
    assertThat(status("c2").stale()).isTrue();
    assertThat(status("c2").staleReason()).contains("saved at");

    c2.proxy.restore();
    await().atMost(WAIT).until(() -> !status("c2").stale() && status("c2").synced());
    assertThat(snapshot().service(API)).isNull();
    assertThat(addresses(WEB)).containsExactly("10.2.0.1");
  }

  @Test
  void rotatedKubeconfigSwitchesConnectionsWithoutLosingEndpoints() throws Exception {
    TcpProxy second = new TcpProxy(c2.server.getPort());
    closeables.add(second);
    startControlPlane(null);
    putSecret("istio-remote-secret-c2", Map.of("c2", c2.kubeconfig("token-1")));
    await().atMost(WAIT).until(() -> addresses(WEB).size() == 1);
    KubeClusterSource first = controller.source("c2");

    List<Integer> endpointsSeen = new CopyOnWriteArrayList<>();
    registry.addListener((s, change) -> {
      ServiceView v = s.service(WEB);
      endpointsSeen.add(v == null ? 0 : v.endpoints().size());
    });
    putSecret("istio-remote-secret-c2", Map.of("c2", MockCluster.kubeconfig(second.url(), "token-2")));
    await().atMost(WAIT).until(() -> controller.source("c2") != first);
    assertThat(controller.source("c2").awaitSynced(WAIT)).isTrue();

    // The old connection is gone: cutting it changes nothing, and changes flow through the new one.
    c2.proxy.cut();
    c2.apply(MockCluster.slice("web", "10.2.0.1", "10.2.0.4"));
    await().atMost(WAIT).until(() -> addresses(WEB).equals(List.of("10.2.0.1", "10.2.0.4")));
    assertThat(status("c2").stale()).isFalse();
    assertThat(endpointsSeen).isNotEmpty().doesNotContain(0);
  }

  @Test
  void hungApiServerDelaysNeitherStartNorOtherClusters() throws Exception {
    try (MockCluster c3 = new MockCluster()) {
      c3.apply(MockCluster.service("slow", 80));
      c3.proxy.stall();
      startControlPlane(null);
      putSecret("istio-remote-secret-c2", Map.of("c2", c2.kubeconfig("t2")));
      putSecret("istio-remote-secret-c3", Map.of("c3", c3.kubeconfig("t3")));
      await().atMost(WAIT).until(() -> controller.clusters().size() == 2);
      // c2 serves while c3 hangs; then the bounded wait names c3 alone.
      await().atMost(WAIT).until(() -> addresses(WEB).equals(List.of("10.2.0.1")));
      Map<String, String> notSynced = controller.awaitInitialSync(Duration.ofSeconds(2));
      assertThat(notSynced).containsOnlyKeys("c3");
      assertThat(notSynced.get("c3")).contains("no complete listing", c3.proxy.url());
      c2.apply(MockCluster.slice("web", "10.2.0.1", "10.2.0.6"));
      await().atMost(WAIT).until(() -> addresses(WEB).equals(List.of("10.2.0.1", "10.2.0.6")));
    }
  }

  @Test
  void secretNamingTheLocalClusterIsRefusedWithAProblem() throws Exception {
    startControlPlane(null);
    putSecret("secret-for-myself", Map.of("c1", c2.kubeconfig("t")));
    await().atMost(WAIT).until(() -> !problemsOf("secret-for-myself").isEmpty());
    ConfigProblem p = problemsOf("secret-for-myself").get(0);
    assertThat(p.severity()).isEqualTo(ConfigProblem.Severity.ERROR);
    assertThat(p.describe()).contains("Secret istio-system/secret-for-myself", "data.c1", "cluster c1", "own cluster");
    assertThat(controller.clusters()).isEmpty();
    assertThat(snapshot().service(WEB)).isNull(); // c2's services were not taken in under c1
  }

  @Test
  void secondSecretForARegisteredClusterIdIsRefusedAndTakesOverWhenTheFirstGoes() throws Exception {
    startControlPlane(null);
    putSecret("a-first", Map.of("c2", c2.kubeconfig("token-a")));
    await().atMost(WAIT).until(() -> addresses(WEB).size() == 1);
    TcpProxy second = new TcpProxy(c2.server.getPort());
    closeables.add(second);
    putSecret("b-second", Map.of("c2", MockCluster.kubeconfig(second.url(), "token-b")));
    await().atMost(WAIT).until(() -> !problemsOf("b-second").isEmpty());
    assertThat(problemsOf("b-second").get(0).message()).contains("c2", "already registered", "a-first");
    assertThat(problemsOf("b-second").get(0).field()).isEqualTo("data.c2");
    assertThat(addresses(WEB)).containsExactly("10.2.0.1");

    deleteSecret("a-first");
    await().atMost(WAIT).until(() -> problemsOf("b-second").isEmpty() && controller.clusters().contains("c2"));
    c2.proxy.cut(); // a-first's way in: the cluster now comes through b-second's
    c2.apply(MockCluster.slice("web", "10.2.0.5"));
    await().atMost(WAIT).until(() -> addresses(WEB).equals(List.of("10.2.0.5")));
  }

  @Test
  void kubeconfigThatRunsACommandOrReadsAFileIsRefusedNamingTheField() throws Exception {
    startControlPlane(null);
    String exec = c2.kubeconfig("t").replace("user: {token: \"t\"}",
        "user: {exec: {apiVersion: client.authentication.k8s.io/v1, command: /bin/sh, args: [-c, id]}}");
    String tokenFile = c2.kubeconfig("t").replace("user: {token: \"t\"}", "user: {tokenFile: /etc/shadow}");
    putSecret("with-exec", Map.of("c2", exec));
    putSecret("with-token-file", Map.of("c3", tokenFile));
    await().atMost(WAIT).until(() -> !problemsOf("with-exec").isEmpty() && !problemsOf("with-token-file").isEmpty());
    ConfigProblem e = problemsOf("with-exec").get(0);
    assertThat(e.field()).isEqualTo("data.c2.users[0].user.exec");
    assertThat(e.describe()).contains("Secret istio-system/with-exec", "cluster c2", "users[0].user.exec",
        "runs a command");
    ConfigProblem f = problemsOf("with-token-file").get(0);
    assertThat(f.describe()).contains("Secret istio-system/with-token-file", "cluster c3", "users[0].user.tokenFile",
        "reads a file");
    assertThat(controller.clusters()).isEmpty();
  }

  @Test
  void secretsInTheFolderAddAndRemoveClusters() throws Exception {
    Files.writeString(secretsDir.resolve("c2.yaml"), """
        apiVersion: v1
        kind: Secret
        metadata:
          name: istio-remote-secret-c2
          namespace: istio-system
          labels: {istio/multiCluster: "true"}
        stringData:
          c2: |
        %s""".formatted(c2.kubeconfig("token-1").indent(4)));
    startControlPlane(secretsDir);
    assertThat(controller.awaitInitialSync(WAIT)).isEmpty();
    assertThat(addresses(WEB)).containsExactly("10.2.0.1");

    Files.delete(secretsDir.resolve("c2.yaml"));
    await().atMost(WAIT).until(() -> !snapshot().clusters().containsKey("c2"));
    assertThat(snapshot().service(WEB)).isNull();
  }

  /** The probe's kubeconfigs: exec hidden behind an alias, as one user or as the whole users list. */
  static String execBehindAlias(String server, Path marker, boolean wholeList) {
    String exec = "{apiVersion: client.authentication.k8s.io/v1, command: /bin/sh, args: [-c, 'touch " + marker + "']}";
    String head = """
        apiVersion: v1
        kind: Config
        clusters:
        - name: remote
          cluster: {server: "%s"}
        contexts:
        - name: remote
          context: {cluster: remote, user: weft}
        current-context: remote
        """.formatted(server);
    return wholeList
        ? "x: &list [{name: weft, user: {exec: " + exec + "}}]\n" + head + "users: *list\n"
        : "x: &ex {exec: " + exec + "}\n" + head + "users:\n- name: weft\n  user: *ex\n";
  }

  @Test
  void execBehindAnAliasNeverRunsItsCommand(@TempDir Path tmp) throws Exception {
    Path marker = tmp.resolve("exec-ran");
    startControlPlane(null);
    putSecret("alias-user", Map.of("c3", execBehindAlias(c2.proxy.url(), marker, false)));
    putSecret("alias-list", Map.of("c4", execBehindAlias(c2.proxy.url(), marker, true)));
    // Secrets are handled one at a time, in order: once this later one has been applied, the two
    // above have been read (and, before the strict reader, fabric8 had run their command).
    putSecret("z-good", Map.of("c2", c2.kubeconfig("token-1")));
    await().atMost(WAIT).until(() -> addresses(WEB).equals(List.of("10.2.0.1")));
    await().atMost(WAIT).until(() -> !problemsOf("alias-user").isEmpty() && !problemsOf("alias-list").isEmpty());
    assertThat(marker).doesNotExist();
    assertThat(problemsOf("alias-user").get(0).field()).isEqualTo("data.c3.users[0].user.exec");
    assertThat(problemsOf("alias-list").get(0).field()).isEqualTo("data.c4.users[0].user.exec");
    assertThat(problemsOf("alias-user").get(0).describe()).contains("runs a command", "the cluster is not added");
    assertThat(controller.clusters()).containsExactly("c2");
  }

  static String usersAsAMapping(String server) {
    return MockCluster.kubeconfig(server, "t").replace("users:\n- name: weft\n  user: {token: \"t\"}",
        "users:\n  weft: {token: \"t\"}");
  }

  @Test
  void malformedKubeconfigAtStartUpIsRefusedAloneAndTheOtherSecretsServe() throws Exception {
    putSecret("a-bad", Map.of("c3", usersAsAMapping(c2.proxy.url())));
    putSecret("b-good", Map.of("c2", c2.kubeconfig("token-1")));
    startControlPlane(null);
    assertThat(controller.awaitInitialSync(WAIT)).isEmpty();
    await().atMost(WAIT).until(() -> addresses(WEB).equals(List.of("10.2.0.1")) && !problemsOf("a-bad").isEmpty());
    ConfigProblem p = problemsOf("a-bad").get(0);
    assertThat(p.field()).isEqualTo("data.c3.users");
    assertThat(p.describe()).contains("Secret istio-system/a-bad", "cluster c3", "must be a list, found a mapping");
    assertThat(controller.clusters()).containsExactly("c2");
  }

  @Test
  void malformedKubeconfigAtRunTimeIsRefusedAloneAndLaterChangesStillApply() throws Exception {
    startControlPlane(null);
    putSecret("a-bad", Map.of("c3", usersAsAMapping(c2.proxy.url())));
    await().atMost(WAIT).until(() -> !problemsOf("a-bad").isEmpty());
    putSecret("b-good", Map.of("c2", c2.kubeconfig("token-1")));
    await().atMost(WAIT).until(() -> addresses(WEB).equals(List.of("10.2.0.1")));
    c2.apply(MockCluster.slice("web", "10.2.0.1", "10.2.0.7"));
    await().atMost(WAIT).until(() -> addresses(WEB).equals(List.of("10.2.0.1", "10.2.0.7")));
    deleteSecret("b-good");
    await().atMost(WAIT).until(() -> !snapshot().clusters().containsKey("c2"));
    assertThat(problemsOf("a-bad")).hasSize(1);
  }

  @Test
  void invalidClusterIdKeysAreRefusedAloneNamedSafely() throws Exception {
    startControlPlane(null);
    putSecret("mixed", Map.of("c2", c2.kubeconfig("token-1"), "evil\nWARNING forged", c2.kubeconfig("t")));
    await().atMost(WAIT).until(() -> addresses(WEB).equals(List.of("10.2.0.1")) && !problemsOf("mixed").isEmpty());
    ConfigProblem p = problemsOf("mixed").get(0);
    assertThat(p.describe()).contains("\"evil\\u000aWARNING forged\"", "not a valid cluster id", "control character")
        .doesNotContain("\n");
    assertThat(controller.clusters()).containsExactly("c2");
  }

  @Test
  void secretLargerThanKubernetesAllowsIsRefusedAndItsClusterKeepsItsLastGoodConnection() throws Exception {
    startControlPlane(null);
    putSecret("istio-remote-secret-c2", Map.of("c2", c2.kubeconfig("token-1")));
    await().atMost(WAIT).until(() -> addresses(WEB).equals(List.of("10.2.0.1")));
    putSecret("istio-remote-secret-c2", Map.of("c2", c2.kubeconfig("token-1") + "#" + "x".repeat(KubeConfigs.MAX_BYTES)));
    await().atMost(WAIT).until(() -> !problemsOf("istio-remote-secret-c2").isEmpty());
    assertThat(problemsOf("istio-remote-secret-c2").get(0).describe()).contains("1 MiB", "stay as they were");
    c2.apply(MockCluster.slice("web", "10.2.0.1", "10.2.0.8"));
    await().atMost(WAIT).until(() -> addresses(WEB).equals(List.of("10.2.0.1", "10.2.0.8")));
    assertThat(controller.clusters()).containsExactly("c2");
  }
}
