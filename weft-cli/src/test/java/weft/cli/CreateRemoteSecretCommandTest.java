package weft.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.authentication.TokenRequestBuilder;
import io.fabric8.kubernetes.client.NamespacedKubernetesClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMixedDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import io.fabric8.mockwebserver.ServerRequest;
import io.fabric8.mockwebserver.ServerResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Queue;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code weft create-remote-secret} against fabric8's CRUD-mode API server, and against a port
 * nothing listens on.
 */
class CreateRemoteSecretCommandTest {
  @TempDir
  Path dir;

  KubernetesMockServer server;
  NamespacedKubernetesClient admin;

  @BeforeEach
  void start() {
    Map<ServerRequest, Queue<ServerResponse>> responses = new HashMap<>();
    server = new KubernetesMockServer(new Context(), new MockWebServer(), responses,
        new KubernetesMixedDispatcher(responses), false);
    server.init();
    admin = server.createClient();
    // The CRUD server has no token minting; answer that one endpoint as a real API server would.
    server.expect().post()
        .withPath("/api/v1/namespaces/istio-system/serviceaccounts/istio-reader-service-account/token")
        .andReturn(201, new TokenRequestBuilder().withNewStatus().withToken("minted-token-1").endStatus().build())
        .always();
  }

  @AfterEach
  void stop() {
    admin.close();
    server.destroy();
  }

  /** Two contexts: {@code down} (current) at a port nothing listens on, {@code up} at the mock server. */
  private Path kubeconfig(int downPort) throws Exception {
    String up = admin.getMasterUrl().toString().replaceAll("/$", "");
    return Files.writeString(dir.resolve("kubeconfig"), """
        apiVersion: v1
        kind: Config
        current-context: down
        contexts:
        - {name: down, context: {cluster: down, user: admin}}
        - {name: up, context: {cluster: up, user: admin}}
        clusters:
        - {name: down, cluster: {server: "https://127.0.0.1:%d"}}
        - {name: up, cluster: {server: "%s"}}
        users:
        - {name: admin, user: {token: admin-token}}
        """.formatted(downPort, up));
  }

  @Test
  void theNamedContextIsTheOneUsed() throws Exception {
    Path kubeconfig = kubeconfig(FreePort.unbound());

    Weft run = Weft.run("create-remote-secret", "--kubeconfig", kubeconfig.toString(), "--context", "up",
        "--name", "cluster2");

    assertThat(run.err()).isEmpty();
    assertThat(run.exit()).isZero();
    assertThat(run.out()).contains("istio/multiCluster: \"true\"").contains("istio-remote-secret-cluster2")
        .contains("minted-token-1");
    assertThat(admin.serviceAccounts().inNamespace("istio-system").withName("istio-reader-service-account").get())
        .isNotNull();
  }

  @Test
  void aContextThatDoesNotExistIsAnErrorNamingTheOnesThatDo() throws Exception {
    Path kubeconfig = kubeconfig(FreePort.unbound());

    Weft run = Weft.run("create-remote-secret", "--kubeconfig", kubeconfig.toString(), "--context", "nosuchctx",
        "--name", "cluster2");

    assertThat(run.exit()).isEqualTo(1);
    assertThat(run.errLines()).containsExactly("weft create-remote-secret: " + kubeconfig + ": --context nosuchctx: "
        + "no such context (the file has: down, up)");
    assertThat(run.out()).isEmpty();
  }

  @Test
  void anUnreachableServerFailsAtOnceNamingTheServer() throws Exception {
    int down = FreePort.unbound();
    Path kubeconfig = kubeconfig(down);

    long started = System.nanoTime();
    Weft run = Weft.run("create-remote-secret", "--kubeconfig", kubeconfig.toString(), "--name", "cluster2");
    long seconds = (System.nanoTime() - started) / 1_000_000_000L;

    assertThat(run.exit()).isEqualTo(1);
    assertThat(run.errLines()).containsExactly("weft create-remote-secret: cannot reach the API server "
        + "https://127.0.0.1:" + down + " (current context of " + kubeconfig + "): connection refused; check that "
        + "the cluster is up and the kubeconfig's server address");
    // One refused connection, no retries with backoff (they took 22 s).
    assertThat(seconds).isLessThan(10);
  }

  @Test
  void aCredentialPluginIsNeverRun() throws Exception {
    Path marker = dir.resolve("plugin-ran");
    Path kubeconfig = Files.writeString(dir.resolve("kubeconfig"), """
        apiVersion: v1
        kind: Config
        current-context: cloud
        contexts: [{name: cloud, context: {cluster: cloud, user: cloud}}]
        clusters: [{name: cloud, cluster: {server: "%s"}}]
        users: [{name: cloud, user: {exec: {command: touch, args: ["%s"], apiVersion: client.authentication.k8s.io/v1}}}]
        """.formatted(admin.getMasterUrl(), marker));

    Weft run = Weft.run("create-remote-secret", "--kubeconfig", kubeconfig.toString(), "--name", "cluster2");

    assertThat(run.exit()).isEqualTo(1);
    assertThat(run.errLines()).containsExactly("weft create-remote-secret: " + kubeconfig + ": context cloud: field "
        + "users[0].user.exec: weft does not run credential plugins; use a context whose user has a token or a "
        + "client certificate");
    assertThat(marker).doesNotExist();
  }

  @Test
  void aMissingKubeconfigAndAShortTokenLifetimeAreNamed() throws Exception {
    Path missing = dir.resolve("missing");
    Weft run = Weft.run("create-remote-secret", "--kubeconfig", missing.toString(), "--name", "cluster2");
    assertThat(run.exit()).isEqualTo(1);
    assertThat(run.errLines()).containsExactly("weft create-remote-secret: " + missing + ": no such file; "
        + "--kubeconfig names a kubeconfig file");

    Weft shortToken = Weft.run("create-remote-secret", "--kubeconfig", kubeconfig(1).toString(), "--name", "c2",
        "--token-seconds", "60");
    assertThat(shortToken.exit()).isEqualTo(1);
    assertThat(shortToken.errLines()).containsExactly("weft create-remote-secret: --token-seconds 60 is below the "
        + "API server's minimum of 600");
  }
}
