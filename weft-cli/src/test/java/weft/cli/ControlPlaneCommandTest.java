package weft.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code weft control-plane}: what a person sees when it cannot start. */
class ControlPlaneCommandTest {
  @TempDir
  Path dir;

  @Test
  void aBusyXdsPortIsNamedWithTheFlagThatChangesIt() throws Exception {
    try (ServerSocket busy = FreePort.occupied()) {
      int port = busy.getLocalPort();

      Weft run = Weft.run("control-plane", "--config-dir", dir.toString(), "--xds-port", String.valueOf(port),
          "--monitoring-port", "0");

      assertThat(run.exit()).isEqualTo(1);
      assertThat(run.errLines()).containsExactly("weft control-plane: port " + port + " (--xds-port) is already in "
          + "use; stop the process that holds it or choose another port with --xds-port");
    }
  }

  @Test
  void aBusyMonitoringPortIsNamedWithTheFlagThatChangesIt() throws Exception {
    try (ServerSocket busy = FreePort.occupied()) {
      int port = busy.getLocalPort();

      Weft run = Weft.run("control-plane", "--config-dir", dir.toString(), "--xds-port", "0",
          "--monitoring-port", String.valueOf(port));

      assertThat(run.exit()).isEqualTo(1);
      assertThat(run.errLines()).containsExactly("weft control-plane: port " + port + " (--monitoring-port) is "
          + "already in use; stop the process that holds it or choose another port with --monitoring-port");
    }
  }

  @Test
  void aSendTimeoutThatIsNotPositiveIsRefusedNamingTheFlag() {
    Weft run = Weft.run("control-plane", "--config-dir", dir.toString(), "--xds-send-timeout", "0");

    assertThat(run.exit()).isNotZero();
    assertThat(String.join("\n", run.errLines())).contains("--xds-send-timeout").contains("must be at least 1");
  }

  @Test
  void badDnsFlagsAreUsageErrorsNamingTheFlag() {
    Weft withoutPort = Weft.run("control-plane", "--config-dir", dir.toString(), "--dns-client",
        "10.0.0.0/8=cluster2/default");
    assertThat(withoutPort.exit()).isEqualTo(2);
    assertThat(String.join("\n", withoutPort.errLines())).contains("--dns-client and --dns-upstream need --dns-port");

    Weft badRule = Weft.run("control-plane", "--config-dir", dir.toString(), "--dns-port", "0", "--dns-client",
        "10.0.0.0/8");
    assertThat(badRule.exit()).isEqualTo(2);
    assertThat(String.join("\n", badRule.errLines())).contains("--dns-client", "CIDR=CLUSTER_ID/NAMESPACE");

    Weft badUpstream = Weft.run("control-plane", "--config-dir", dir.toString(), "--dns-port", "0", "--dns-upstream",
        "resolver.example.com");
    assertThat(badUpstream.exit()).isEqualTo(2);
    assertThat(String.join("\n", badUpstream.errLines())).contains("--dns-upstream");
  }

  @Test
  void aMissingConfigFolderIsNamedWithItsFlag() {
    Path missing = dir.resolve("no-such-folder");

    Weft run = Weft.run("control-plane", "--config-dir", missing.toString());

    assertThat(run.exit()).isEqualTo(1);
    assertThat(run.errLines()).containsExactly("weft control-plane: --config-dir " + missing + ": no such folder; "
        + "create it or point --config-dir at the folder of this cluster's YAML files");
  }

  @Test
  void missingFilesAndFoldersOfEveryPathOptionAreNamed() {
    Path missing = dir.resolve("missing");
    assertThat(Weft.run("control-plane", "--config-dir", dir.toString(), "--remote-secrets-dir", missing.toString())
        .errLines()).containsExactly("weft control-plane: --remote-secrets-dir " + missing + ": no such folder; "
        + "create it or point --remote-secrets-dir at the folder of remote Secret YAML files");
    assertThat(Weft.run("control-plane", "--config-dir", dir.toString(), "--mesh-config", missing.toString())
        .errLines()).containsExactly("weft control-plane: --mesh-config " + missing + ": no such file; point "
        + "--mesh-config at a MeshConfig YAML file");
    assertThat(Weft.run("control-plane", "--kubeconfig", dir.toString()).errLines()).containsExactly(
        "weft control-plane: --kubeconfig " + dir + " is a folder, not a file; point --kubeconfig at this "
            + "cluster's kubeconfig");
  }

  @Test
  void anUnreadableKubeconfigIsOneLineNamingTheFile() throws Exception {
    Path kubeconfig = Files.writeString(dir.resolve("kubeconfig"), "clusters: [ {name: a\n");

    Weft run = Weft.run("control-plane", "--kubeconfig", kubeconfig.toString(), "--xds-port", "0",
        "--monitoring-port", "0");

    assertThat(run.exit()).isEqualTo(1);
    assertThat(run.errLines()).singleElement().asString()
        .startsWith("weft control-plane: --kubeconfig " + kubeconfig + ": kubeconfig for cluster cluster1: is not "
            + "valid YAML (");
  }

  @Test
  void aKubeconfigThatRunsACommandIsRefusedNamingTheField() throws Exception {
    Path kubeconfig = Files.writeString(dir.resolve("kubeconfig"), """
        apiVersion: v1
        kind: Config
        current-context: eks
        contexts: [{name: eks, context: {cluster: eks, user: eks}}]
        clusters: [{name: eks, cluster: {server: "https://127.0.0.1:6443"}}]
        users: [{name: eks, user: {exec: {command: aws, apiVersion: client.authentication.k8s.io/v1beta1}}}]
        """);

    Weft run = Weft.run("control-plane", "--kubeconfig", kubeconfig.toString(), "--xds-port", "0",
        "--monitoring-port", "0");

    assertThat(run.exit()).isEqualTo(1);
    assertThat(run.errLines()).singleElement().asString().startsWith("weft control-plane: --kubeconfig " + kubeconfig
        + ": kubeconfig for cluster cluster1: field users[0].user.exec: exec runs a command on the control plane's "
        + "host; put an inline token");
  }

  @Test
  void neitherOrBothSourcesIsAUsageError() {
    Weft neither = Weft.run("control-plane");
    assertThat(neither.exit()).isEqualTo(2);
    assertThat(neither.errLines()).containsExactly("weft control-plane: give exactly one of --config-dir (a folder "
        + "of YAML files), --kubeconfig (a Kubernetes API server) or --config-kubeconfig (an external control "
        + "plane's config cluster); see weft control-plane --help");
  }

  @Test
  void configKubeconfigBesideConfigDirOrKubeconfigIsRefusedSayingItReplacesThem() throws Exception {
    Path kubeconfig = Files.writeString(dir.resolve("kubeconfig"), "apiVersion: v1\nkind: Config\n");
    for (String other : new String[] {"--config-dir", "--kubeconfig"}) {
      String value = other.equals("--config-dir") ? dir.toString() : kubeconfig.toString();
      Weft run = Weft.run("control-plane", "--config-kubeconfig", kubeconfig.toString(), other, value);
      assertThat(run.exit()).isEqualTo(2);
      assertThat(run.errLines()).containsExactly("weft control-plane: --config-kubeconfig replaces " + other
          + ": an external control plane has no local cluster (the config cluster's API server holds the mesh "
          + "config and the remote secrets that add every workload cluster); give only --config-kubeconfig, or "
          + "drop it; see weft control-plane --help");
    }
  }

  @Test
  void aConfigKubeconfigThatRunsACommandIsRefusedNamingTheFlagAndTheField() throws Exception {
    Path kubeconfig = Files.writeString(dir.resolve("kubeconfig"), """
        apiVersion: v1
        kind: Config
        clusters: [{name: c, cluster: {server: "https://127.0.0.1:1"}}]
        contexts: [{name: c, context: {cluster: c, user: u}}]
        current-context: c
        users: [{name: u, user: {exec: {command: /bin/sh, apiVersion: client.authentication.k8s.io/v1}}}]
        """);
    Weft run = Weft.run("control-plane", "--config-kubeconfig", kubeconfig.toString(), "--xds-port", "0",
        "--monitoring-port", "0");
    assertThat(run.exit()).isEqualTo(1);
    assertThat(run.errLines()).singleElement().asString().startsWith("weft control-plane: --config-kubeconfig "
        + kubeconfig + ": kubeconfig for cluster cluster1: field users[0].user.exec: exec runs a command");
  }

  @Test
  void leaderTimingsThatCouldOverlapTwoWritersAreAUsageErrorNamingTheFlags() {
    Weft run = Weft.run("control-plane", "--config-dir", dir.toString(), "--leader-lease-duration", "10",
        "--leader-renew-deadline", "12");
    assertThat(run.exit()).isEqualTo(2);
    assertThat(run.errLines()).singleElement().asString().startsWith("weft control-plane: --leader-renew-deadline "
        + "(12 s) must be shorter than --leader-lease-duration (10 s)");
    Weft bad = Weft.run("control-plane", "--config-dir", dir.toString(), "--leader-retry-period", "0.0001");
    assertThat(bad.exit()).isEqualTo(2);
    assertThat(bad.err()).contains("--leader-retry-period").contains("to the millisecond");
  }

  @Test
  void portsAndWaitsAreCheckedBeforeAnythingStarts() {
    Weft port = Weft.run("control-plane", "--config-dir", dir.toString(), "--xds-port", "70000");
    assertThat(port.exit()).isEqualTo(2);
    assertThat(port.errLines()).containsExactly("weft control-plane: Invalid value for option '--xds-port': "
        + "'70000' is not a port: give 1..65535, or 0 for any free port; see weft control-plane --help");

    Weft wait = Weft.run("control-plane", "--config-dir", dir.toString(), "--initial-sync-wait", "-3");
    assertThat(wait.exit()).isEqualTo(2);
    assertThat(wait.errLines()).containsExactly("weft control-plane: Invalid value for option "
        + "'--initial-sync-wait': '-3' must be 0 or more; see weft control-plane --help");
  }

  @Test
  void aBrokenCaFolderOrTokenFileIsNamedWithItsFlag() throws Exception {
    Path ca = Files.createDirectories(dir.resolve("ca"));
    Files.writeString(ca.resolve("ca-cert.pem"), "not a certificate");
    Path config = Files.createDirectories(dir.resolve("config"));

    Weft brokenCa = Weft.run("control-plane", "--config-dir", config.toString(), "--ca-dir", ca.toString(),
        "--ca-tokens", Files.writeString(dir.resolve("tokens.yaml"), "[]").toString(), "--xds-port", "0",
        "--monitoring-port", "0", "--secure-port", "0");
    assertThat(brokenCa.exit()).isEqualTo(1);
    assertThat(brokenCa.errLines()).singleElement().asString().startsWith("weft control-plane: --ca-dir " + ca);

    Path tokens = Files.writeString(dir.resolve("bad-tokens.yaml"), "token: not-a-list\n");
    Weft badTokens = Weft.run("control-plane", "--config-dir", config.toString(), "--ca-dir",
        dir.resolve("new-ca").toString(), "--ca-tokens", tokens.toString(), "--xds-port", "0", "--monitoring-port",
        "0", "--secure-port", "0");
    assertThat(badTokens.exit()).isEqualTo(1);
    assertThat(badTokens.errLines()).containsExactly("weft control-plane: --ca-tokens " + tokens + ": expected a "
        + "YAML list of {token, namespace, serviceAccount}");
  }
}
