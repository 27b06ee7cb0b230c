package weft.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import weft.controlplane.ControlPlane;
import weft.controlplane.ControlPlaneOptions;
import weft.demo.DemoConfig;

/**
 * {@code weft analyze} on folders and against a running control plane: the demo's configuration,
 * a configuration with one of every mistake the analyzers know, and unreadable input.
 */
class AnalyzeCommandTest {
  @TempDir
  Path tmp;

  static Path resource(String name) throws URISyntaxException {
    return Path.of(AnalyzeCommandTest.class.getClassLoader().getResource("analyze/" + name).toURI());
  }

  private String[] brokenArgs(String... more) throws URISyntaxException {
    Path b = resource("broken");
    List<String> args = new java.util.ArrayList<>(List.of("analyze",
        "--config-dir", b.resolve("cluster1").toString(), "--cluster-id", "cluster1",
        "--mesh-config", b.resolve("mesh-config-1.yaml").toString(),
        "--config-dir", b.resolve("cluster2").toString(), "--cluster-id", "cluster2",
        "--mesh-config", b.resolve("mesh-config-2.yaml").toString(),
        "--config-dir", b.resolve("cluster3").toString(), "--cluster-id", "cluster3"));
    args.addAll(List.of(more));
    return args.toArray(String[]::new);
  }

  @Test
  void brokenFoldersGiveOneLinePerFindingWithCodeResourceAndFileAndExit79() throws Exception {
    Weft run = Weft.run(brokenArgs());

    assertThat(run.exit()).as(run.out() + run.err()).isEqualTo(AnalyzeCommand.EXIT_FOUND);
    List<String> lines = run.out().lines().toList();
    assertThat(lines).contains(
        "Error [IST0101] (VirtualService default/echo cluster1:routing.yaml) Referenced host not found: "
            + "\"missing.default.svc.cluster.local\"; requests routed there fail. Declare it (Service or ServiceEntry) "
            + "or fix the destination",
        "Error [IST0101] (VirtualService default/echo cluster1:routing.yaml) Referenced host+subset in destinationrule "
            + "not found: \"echo.default.svc.cluster.local+v3\"; requests routed there fail. Define subset v3 in a "
            + "DestinationRule for echo.default.svc.cluster.local");
    assertThat(lines).anySatisfy(l -> assertThat(l).startsWith("Error [IST0109] (VirtualService default/echo-canary "
        + "cluster1:routing.yaml) The VirtualServices [default/echo, default/echo-canary]"));
    assertThat(lines).anySatisfy(l -> assertThat(l).startsWith("Error [WEFT0504] (VirtualService default/echo "
        + "cluster1:routing.yaml) routes to ratings.example.internal, which is exported only to [ratings]: proxies in "
        + "[default, istio-system]"));
    assertThat(lines).anySatisfy(l -> assertThat(l).startsWith("Error [WEFT0302] (address 10.1.0.1:9080 network "
        + "network-1) workloads [cluster1/default/echo-a, cluster3/default/echo-z] all serve 10.1.0.1:9080"));
    assertThat(lines).anySatisfy(l -> assertThat(l).startsWith("Error [WEFT0403] (clusters cluster1 and cluster2) "
        + "trust domain td-one in cluster1, td-two in cluster2"));
    assertThat(lines).anySatisfy(l -> assertThat(l).startsWith("Warning [WEFT0201] (DestinationRule default/echo "
        + "cluster1:routing.yaml) localityLbSetting sets failover for host echo but no outlierDetection applies"));
    assertThat(lines).anySatisfy(l -> assertThat(l).startsWith("Warning [WEFT0301] (network network-2 cluster "
        + "cluster2) endpoints in clusters [cluster2] are on this network, which has no east-west gateway"));
    assertThat(lines).noneMatch(l -> l.contains("(network network-1"));
    assertThat(lines).anySatisfy(l -> assertThat(l).startsWith("Warning [WEFT0501] (VirtualService default/ghost "
        + "cluster1:routing.yaml) host ghost.default.svc.cluster.local is served by no cluster"));
    assertThat(lines).anySatisfy(l -> assertThat(l).startsWith("Warning [WEFT0501] (DestinationRule default/nowhere "
        + "cluster1:dup-b.yaml) host nowhere.default.svc.cluster.local is served by no cluster"));
    assertThat(lines).anySatisfy(l -> assertThat(l).startsWith("Warning [WEFT0502] (DestinationRule "
        + "default/echo-extra cluster1:routing.yaml) DestinationRules [echo, echo-extra] all apply to host "
        + "echo.default.svc.cluster.local in namespace default; DestinationRule default/echo is used"));
    assertThat(lines).contains("Warning [WEFT0503] (DestinationRule default/nowhere cluster1:dup-b.yaml) declared in "
        + "2 files of cluster cluster1 [dup-a.yaml, dup-b.yaml]; only the last (dup-b.yaml) serves. Keep one");
    // A kind Weft does not read: a config warning, whatever its text.
    assertThat(lines).anySatisfy(l -> assertThat(l).startsWith("Warning [WEFT0002] (services.yaml) field kind: ")
        .contains("Deployment"));
    // Per-proxy drops, summarised by cause over the simulated proxies (the failover note is one of them).
    assertThat(lines).anySatisfy(l -> assertThat(l).startsWith("Warning [WEFT0101] ")
        .contains("proxy(ies)").contains("locality failover is configured for echo.default.svc.cluster.local"));
    // Most serious first.
    assertThat(lines.get(0)).startsWith("Error ");
    assertThat(lines.get(lines.size() - 1)).doesNotStartWith("Error ");
  }

  @Test
  void theDemoConfigurationHasNoErrorsAndOnlyTheOneWayGatewayWarning() throws Exception {
    Path c1 = Files.createDirectory(tmp.resolve("cluster1"));
    Path c2 = Files.createDirectory(tmp.resolve("cluster2"));
    DemoConfig.write(c1, c2);

    Weft run = Weft.run("analyze", "--config-dir", c1.toString(), "--cluster-id", "cluster1",
        "--config-dir", c2.toString(), "--cluster-id", "cluster2");

    assertThat(run.exit()).as(run.out() + run.err()).isZero();
    // network-1's clients reach network-2 through its gateway; nothing comes back the other way.
    assertThat(run.out().lines()).allMatch(l -> l.startsWith("Warning ")).anyMatch(l -> l.startsWith(
        "Warning [WEFT0301] (network network-1 cluster cluster1) endpoints in clusters [cluster1]"));
    // ...which the simulated proxies of network-2 record too, summarised by cause.
    assertThat(run.out()).contains("network network-1 has no gateway: its 2 endpoint(s) are left out for this "
        + "proxyless client (e.g. on grpc~127.0.0.1~echo-west.default~default.svc.cluster.local)");

    Weft strict = Weft.run("analyze", "--config-dir", c1.toString(), "--cluster-id", "cluster1",
        "--config-dir", c2.toString(), "--cluster-id", "cluster2", "--failure-threshold", "warning");
    assertThat(strict.exit()).isEqualTo(AnalyzeCommand.EXIT_FOUND);

    Weft quiet = Weft.run("analyze", "--config-dir", c1.toString(), "--cluster-id", "cluster1",
        "--config-dir", c2.toString(), "--cluster-id", "cluster2", "--output-threshold", "ERROR");
    assertThat(quiet.exit()).isZero();
    assertThat(quiet.out()).startsWith("✔ No validation issues found (2 cluster folder(s), 6 simulated proxies)");
  }

  @Test
  void theRunningControlPlaneAgreesWithTheOfflineAnalysisOfItsFolders() throws Exception {
    Path b = resource("broken");
    ControlPlaneOptions options = ControlPlaneOptions.forConfigDir(b.resolve("cluster1"))
        .withMeshConfig(b.resolve("mesh-config-1.yaml"))
        .withRemoteConfigDirs(Map.of("cluster2", b.resolve("cluster2"), "cluster3", b.resolve("cluster3")))
        .withPorts(0, 0);
    try (ControlPlane cp = ControlPlane.start(options)) {
      Weft live = Weft.run("analyze", "--control-plane", "localhost:" + cp.monitoringPort());
      Weft offline = Weft.run(brokenArgs());

      assertThat(live.exit()).as(live.out() + live.err()).isEqualTo(AnalyzeCommand.EXIT_FOUND);
      // Offline simulates proxies and knows each folder's trust domain; the rest is the same reading.
      assertThat(withoutCodes(live.out(), "WEFT0101", "WEFT0102"))
          .isEqualTo(withoutCodes(offline.out(), "WEFT0101", "WEFT0102", "WEFT0403"));
      assertThat(live.out()).contains("[IST0101]", "[IST0109]", "[WEFT0201]", "[WEFT0301]", "[WEFT0302]", "[WEFT0501]",
          "[WEFT0502]", "[WEFT0503]", "[WEFT0504]", "[WEFT0002]");

      Weft json = Weft.run("analyze", "--control-plane", "localhost:" + cp.monitoringPort(), "-o", "json");
      assertThat(json.out()).contains("\"code\" : \"IST0101\"", "\"origin\" : \"cluster1:routing.yaml\"");
    }
  }

  @Test
  void theDemoConfigurationIsCleanLive() throws Exception {
    Path c1 = Files.createDirectory(tmp.resolve("cluster1"));
    Path c2 = Files.createDirectory(tmp.resolve("cluster2"));
    DemoConfig.write(c1, c2);
    ControlPlaneOptions options = ControlPlaneOptions.forConfigDir(c1).withRemoteConfigDirs(Map.of("cluster2", c2))
        .withPorts(0, 0);
    try (ControlPlane cp = ControlPlane.start(options)) {
      Weft live = Weft.run("analyze", "--control-plane", "localhost:" + cp.monitoringPort());

      assertThat(live.exit()).as(live.out() + live.err()).isZero();
      assertThat(live.out().lines()).singleElement().asString().startsWith("Warning [WEFT0301] (network network-1");
    }
  }

  @Test
  void aRemoteClusterThatCannotBeReachedIsAnError() throws Exception {
    Path config = Files.createDirectory(tmp.resolve("config"));
    Path secrets = Files.createDirectory(tmp.resolve("secrets"));
    Files.writeString(secrets.resolve("cluster2.yaml"), """
        apiVersion: v1
        kind: Secret
        metadata:
          name: istio-remote-secret-cluster2
          namespace: istio-system
          labels: {istio/multiCluster: "true"}
        stringData:
          cluster2: |
            apiVersion: v1
            kind: Config
            clusters: [{name: c, cluster: {server: "https://127.0.0.1:%d", insecure-skip-tls-verify: true}}]
            contexts: [{name: c, context: {cluster: c, user: u}}]
            current-context: c
            users: [{name: u, user: {token: t}}]
        """.formatted(FreePort.unbound()));
    ControlPlaneOptions options = ControlPlaneOptions.forConfigDir(config).withPorts(0, 0)
        .withRemoteSecrets(secrets, null, Duration.ZERO);
    try (ControlPlane cp = ControlPlane.start(options)) {
      Weft live = Weft.run("analyze", "--control-plane", "localhost:" + cp.monitoringPort());

      assertThat(live.exit()).as(live.out() + live.err()).isEqualTo(AnalyzeCommand.EXIT_FOUND);
      assertThat(live.out()).contains("Error [WEFT0401] (cluster cluster2) never synced");
    }
  }

  @Test
  void inputThatCannotBeReadExits65AndBadUsageExits64() throws Exception {
    Weft unreadable = Weft.run("analyze", "--config-dir", resource("unreadable").resolve("cluster1").toString(),
        "--cluster-id", "cluster1");
    assertThat(unreadable.exit()).as(unreadable.out() + unreadable.err()).isEqualTo(AnalyzeCommand.EXIT_PARSE_ERROR);
    assertThat(unreadable.out()).contains("Error [WEFT0001] (bad.yaml)", "not valid YAML");
    assertThat(unreadable.err()).contains("1 input(s) could not be read at all");

    Weft threshold = Weft.run("analyze", "--failure-threshold", "fatal");
    assertThat(threshold.exit()).isEqualTo(AnalyzeCommand.EXIT_USAGE);
    assertThat(threshold.errLines()).containsExactly("weft analyze: --failure-threshold fatal: use INFO, WARNING or "
        + "ERROR; see weft analyze --help");

    Weft missingId = Weft.run("analyze", "--config-dir", tmp.toString());
    assertThat(missingId.exit()).isEqualTo(AnalyzeCommand.EXIT_USAGE);
    assertThat(missingId.err()).contains("--cluster-id");

    Weft both = Weft.run("analyze", "--config-dir", tmp.toString(), "--cluster-id", "c1", "--control-plane",
        "localhost:1");
    assertThat(both.exit()).isEqualTo(AnalyzeCommand.EXIT_USAGE);

    Weft noFolder = Weft.run("analyze", "--config-dir", tmp.resolve("absent").toString(), "--cluster-id", "c1");
    assertThat(noFolder.exit()).isEqualTo(AnalyzeCommand.EXIT_USAGE);
    assertThat(noFolder.errLines()).singleElement().asString().contains("is not a folder");

    Weft codes = Weft.run("analyze", "--list-codes");
    assertThat(codes.exit()).isZero();
    assertThat(codes.out()).contains("IST0101", "WEFT0504");
  }

  private static Set<String> withoutCodes(String out, String... codes) {
    Set<String> lines = new TreeSet<>(out.lines().toList());
    lines.removeIf(l -> java.util.Arrays.stream(codes).anyMatch(c -> l.contains("[" + c + "]")));
    return lines;
  }

}
