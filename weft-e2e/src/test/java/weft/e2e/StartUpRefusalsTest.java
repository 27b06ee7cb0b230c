package weft.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import weft.controlplane.ControlPlane;
import weft.controlplane.ControlPlaneOptions;
import weft.controlplane.StartupException;
import weft.security.ca.CaException;
import weft.security.ca.CaTools;

/** What the control plane refuses to start with: one line naming the flag, the file and the field. */
class StartUpRefusalsTest {
  @TempDir Path tmp;

  ControlPlaneOptions options() throws Exception {
    Path config = Files.createDirectories(tmp.resolve("config"));
    return ControlPlaneOptions.forConfigDir(config).withPorts(0, 0);
  }

  @Test
  void clusterIdsOutsideTheRuleAreRefusedNamingTheFlag() throws Exception {
    assertThatThrownBy(() -> ControlPlane.start(options().withCluster("c1\nWARNING forged line", "")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("--cluster-id")
        .hasMessageContaining("control character")
        .satisfies(e -> assertThat(e.getMessage()).doesNotContain("\n"));
    assertThatThrownBy(() -> ControlPlane.start(options().withCluster("", "")))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("--cluster-id: cluster id is empty");
    Path vms = Files.createDirectories(tmp.resolve("vms"));
    assertThatThrownBy(() -> ControlPlane.start(options().withRemoteConfigDirs(Map.of("vm/1", vms))))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("--remote-config-dir \"vm/1\"")
        .hasMessageContaining("'/'");
    // Istio's default id is valid.
    try (ControlPlane cp = ControlPlane.start(options().withCluster("Kubernetes", "")
        .withRemoteConfigDirs(Map.of("vm-1.zone_a", vms)))) {
      assertThat(cp.status()).containsEntry("clusterId", "Kubernetes");
    }
  }

  @Test
  void ownKubeconfigThatRunsACommandIsRefusedAndTheCommandNeverRuns() throws Exception {
    Path marker = tmp.resolve("exec-ran");
    Path kubeconfig = tmp.resolve("kubeconfig");
    Files.writeString(kubeconfig, """
        apiVersion: v1
        kind: Config
        x: &ex {exec: {apiVersion: client.authentication.k8s.io/v1, command: /bin/sh, args: [-c, 'touch %s']}}
        clusters:
        - name: local
          cluster: {server: "https://127.0.0.1:6443"}
        contexts:
        - name: local
          context: {cluster: local, user: admin}
        current-context: local
        users:
        - name: admin
          user: *ex
        """.formatted(marker));
    assertThatThrownBy(() -> ControlPlane.start(ControlPlaneOptions.forKubeconfig(kubeconfig).withPorts(0, 0)))
        .isInstanceOf(java.io.IOException.class)
        .hasMessageContaining("--kubeconfig " + kubeconfig)
        .hasMessageContaining("users[0].user.exec")
        .satisfies(e -> assertThat(e.getMessage()).doesNotContain("\n"));
    assertThat(marker).doesNotExist();
  }

  @Test
  void theMeshRootAsCaDirIsRefusedNamingWeftCaIntermediateUnlessAllowed() throws Exception {
    Path root = tmp.resolve("root");
    CaTools.initRoot(root, "cluster.local");
    Path tokens = Files.writeString(tmp.resolve("tokens.yaml"), "- {token: t, namespace: default, serviceAccount: a}\n");
    assertThatThrownBy(() -> ControlPlane.start(options().withCa(new ControlPlaneOptions.Ca(root, tokens, 0))))
        .isInstanceOf(StartupException.class).hasCauseInstanceOf(CaException.class)
        .hasMessageContaining("self-signed root")
        .hasMessageContaining("weft ca intermediate")
        .satisfies(e -> assertThat(e.getMessage()).doesNotContain("\n"));
    try (ControlPlane cp = ControlPlane.start(options().withCa(new ControlPlaneOptions.Ca(root, tokens, 0).withSelfSignedRoot(true)))) {
      assertThat(cp.securePort()).isPositive();
    }
  }
}
