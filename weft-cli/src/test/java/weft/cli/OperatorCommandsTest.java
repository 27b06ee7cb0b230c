package weft.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import weft.controlplane.ControlPlane;
import weft.controlplane.ControlPlaneOptions;

/** {@code weft status | remote-clusters | proxy-status} against a real control plane, or none. */
class OperatorCommandsTest {
  @TempDir
  Path configDir;

  @Test
  void statusWithNoControlPlaneNamesTheAddressTriedAndTheFlag() {
    int port = FreePort.unbound();

    Weft status = Weft.run("status", "--control-plane", "localhost:" + port);

    assertThat(status.exit()).isEqualTo(1);
    assertThat(status.errLines()).containsExactly("weft status: cannot reach the control plane at http://localhost:"
        + port + " (connection refused); is weft control-plane running there? Point --control-plane at its "
        + "monitoring address (HOST:PORT or URL)");
    assertThat(status.out()).isEmpty();
  }

  @Test
  void everyOperatorCommandFailsTheSameWayWithoutAControlPlane() {
    int port = FreePort.unbound();
    for (String command : new String[] {"remote-clusters", "proxy-status"}) {
      Weft run = Weft.run(command, "--control-plane", "http://127.0.0.1:" + port);

      assertThat(run.exit()).isEqualTo(1);
      assertThat(run.errLines()).containsExactly("weft " + command + ": cannot reach the control plane at "
          + "http://127.0.0.1:" + port + " (connection refused); is weft control-plane running there? Point "
          + "--control-plane at its monitoring address (HOST:PORT or URL)");
    }
  }

  @Test
  void debugAddsTheStackTraceAfterTheSameLine() {
    int port = FreePort.unbound();

    Weft status = Weft.run("status", "--control-plane", "localhost:" + port, "--debug");

    assertThat(status.exit()).isEqualTo(1);
    assertThat(status.errLines().get(0)).startsWith("weft status: cannot reach the control plane at http://localhost:"
        + port);
    assertThat(status.err()).contains("weft.cli.CommandFailure").contains("\tat weft.cli.ControlPlaneAddress")
        .contains("Caused by: java.net.ConnectException");
  }

  @Test
  void remoteClustersNamesAnExternalControlPlanesConfigClusterAndThatItRunsNoWorkloads() throws Exception {
    var server = new io.fabric8.kubernetes.client.server.mock.KubernetesMockServer(
        new io.fabric8.mockwebserver.Context(), new io.fabric8.mockwebserver.MockWebServer(), new java.util.HashMap<>(),
        new io.fabric8.kubernetes.client.server.mock.KubernetesCrudDispatcher(), false);
    server.init(java.net.InetAddress.getLoopbackAddress(), 0);
    try {
      String url = "http://127.0.0.1:" + server.getPort();
      Path kubeconfig = java.nio.file.Files.writeString(configDir.resolve("config-kubeconfig"), """
          apiVersion: v1
          kind: Config
          clusters: [{name: c, cluster: {server: "%s"}}]
          contexts: [{name: c, context: {cluster: c, user: u}}]
          current-context: c
          users: [{name: u, user: {token: t}}]
          """.formatted(url));
      try (ControlPlane cp = ControlPlane.start(ControlPlaneOptions.forConfigKubeconfig(kubeconfig)
          .withCluster("mesh-config", "").withPorts(0, 0))) {
        Weft clusters = Weft.run("remote-clusters", "--control-plane", "localhost:" + cp.monitoringPort());
        assertThat(clusters.exit()).isZero();
        assertThat(clusters.out().lines()).first().isEqualTo("config cluster: mesh-config at " + url
            + "/ (external control plane: no local cluster; workloads come from remote secrets)");
        assertThat(clusters.out().lines().filter(l -> l.startsWith("mesh-config "))).singleElement().asString()
            .matches("mesh-config +config +.*");
      }
    } finally {
      server.destroy();
    }
  }

  @Test
  void hostPortAndUrlBothReachTheControlPlane() throws Exception {
    try (ControlPlane cp = ControlPlane.start(ControlPlaneOptions.forConfigDir(configDir).withPorts(0, 0))) {
      int port = cp.monitoringPort();
      for (String address : new String[] {"localhost:" + port, "http://localhost:" + port,
          "http://localhost:" + port + "/", "127.0.0.1:" + port}) {
        Weft status = Weft.run("status", "--control-plane", address);
        assertThat(status.err()).isEmpty();
        assertThat(status.exit()).isZero();
        assertThat(status.out()).contains("ready=true").contains("cluster1");
        // File mode: the only instance leads.
        assertThat(status.out().lines().filter(l -> l.startsWith("leader: "))).singleElement().asString()
            .matches("leader: (\\S+) since \\S+ \\(the only instance\\); this instance \\1 leads");
      }
      Weft clusters = Weft.run("remote-clusters", "--control-plane", "localhost:" + port);
      assertThat(clusters.exit()).isZero();
      assertThat(clusters.out()).contains("cluster1").contains("synced");
      assertThat(clusters.out().lines()).first().isEqualTo("config cluster: cluster1");
      assertThat(clusters.out().lines().filter(l -> l.startsWith("cluster1 "))).singleElement().asString()
          .matches("cluster1 +config\\+workloads +.*");
      Weft proxies = Weft.run("proxy-status", "--control-plane", "localhost:" + port);
      assertThat(proxies.exit()).isZero();
      assertThat(proxies.out()).startsWith("PROXY");
    }
  }

  @Test
  void aPortThatIsNotTheMonitoringPortIsNamedAsSuch() throws Exception {
    try (ControlPlane cp = ControlPlane.start(ControlPlaneOptions.forConfigDir(configDir).withPorts(0, 0))) {
      String base = "http://localhost:" + cp.monitoringPort() + "/nothing-here";

      Weft status = Weft.run("status", "--control-plane", base);

      assertThat(status.exit()).isEqualTo(1);
      assertThat(status.errLines()).containsExactly("weft status: " + base + "/debug/status answered HTTP 404; is "
          + base + " the monitoring port of a weft control plane (default 15014)? Point --control-plane at it");
    }
  }

  @Test
  void aMalformedAddressIsAUsageErrorNamingTheOption() {
    Weft status = Weft.run("status", "--control-plane", "ftp://localhost:15014");

    assertThat(status.exit()).isEqualTo(2);
    assertThat(status.errLines()).containsExactly("weft status: Invalid value for option '--control-plane': "
        + "'ftp://localhost:15014' is not a monitoring address (the scheme ftp is not http or https); give "
        + "HOST:PORT, e.g. localhost:15014, or a URL, e.g. http://localhost:15014; see weft status --help");

    Weft badPort = Weft.run("proxy-status", "--control-plane", "localhost:99999");
    assertThat(badPort.exit()).isEqualTo(2);
    assertThat(badPort.errLines()).singleElement().asString()
        .contains("'--control-plane': 'localhost:99999' is not a monitoring address (the port is not in 1..65535)");
  }

  @Test
  void monitoringAddressesAreNormalised() {
    assertThat(MonitoringAddress.parse("localhost").toString()).isEqualTo("http://localhost:15014");
    assertThat(MonitoringAddress.parse("cp.example:9000").toString()).isEqualTo("http://cp.example:9000");
    assertThat(MonitoringAddress.parse("[::1]:15014").toString()).isEqualTo("http://[::1]:15014");
    assertThat(MonitoringAddress.parse("https://cp.example/weft/").toString()).isEqualTo("https://cp.example:443/weft");
  }
}
