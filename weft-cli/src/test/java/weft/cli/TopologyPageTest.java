package weft.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.client.server.mock.KubernetesCrudDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import java.io.File;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import weft.controlplane.ControlPlane;
import weft.controlplane.ControlPlaneOptions;
import weft.demo.DemoConfig;

/**
 * The topology page at {@code /ui} in real headless Chromium (Debian's chromium and chromium-driver),
 * against a control plane on the demo's configuration plus a remote cluster behind a remote secret
 * whose API server (fabric8's CRUD mock) is then shut down. Skipped where Chromium is not installed.
 */
class TopologyPageTest {
  static final Path CHROMIUM = Path.of("/usr/bin/chromium");
  static final Path CHROMEDRIVER = Path.of("/usr/bin/chromedriver");
  static final Path SCREENSHOTS = Path.of("target", "topology-page");

  @TempDir
  Path tmp;
  ChromeDriver browser;

  @BeforeEach
  void startBrowser() {
    Assumptions.assumeTrue(Files.isExecutable(CHROMIUM) && Files.isExecutable(CHROMEDRIVER),
        "Chromium is not installed (" + CHROMIUM + " and " + CHROMEDRIVER + " are needed): the topology page test "
            + "is skipped; install Debian's chromium and chromium-driver (.ci/run does) to run it");
    // The driver and the browser are named explicitly, so Selenium Manager (which downloads) never runs.
    ChromeDriverService service = new ChromeDriverService.Builder().usingDriverExecutable(CHROMEDRIVER.toFile())
        .usingAnyFreePort().build();
    ChromeOptions options = new ChromeOptions().setBinary(CHROMIUM.toFile())
        .addArguments("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--window-size=1400,1100");
    browser = new ChromeDriver(service, options);
  }

  @AfterEach
  void stopBrowser() {
    if (browser != null) browser.quit();
  }

  @Test
  void showsTheDemosClustersAndNetworksAndARemoteClusterTurnsStaleWhenItsApiServerGoesAway() throws Exception {
    Path c1 = Files.createDirectory(tmp.resolve("cluster1"));
    Path c2 = Files.createDirectory(tmp.resolve("cluster2"));
    DemoConfig.write(c1, c2);
    KubernetesMockServer apiServer = new KubernetesMockServer(new Context(), new MockWebServer(), new HashMap<>(),
        new KubernetesCrudDispatcher(), false);
    apiServer.init(InetAddress.getLoopbackAddress(), 0);
    boolean apiServerUp = true;
    try {
      Path secrets = Files.createDirectory(tmp.resolve("secrets"));
      Files.writeString(secrets.resolve("cluster3.yaml"), """
          apiVersion: v1
          kind: Secret
          metadata:
            name: istio-remote-secret-cluster3
            namespace: istio-system
            labels: {istio/multiCluster: "true"}
          stringData:
            cluster3: |
              apiVersion: v1
              kind: Config
              clusters: [{name: c, cluster: {server: "http://127.0.0.1:%d"}}]
              contexts: [{name: c, context: {cluster: c, user: u}}]
              current-context: c
              users: [{name: u, user: {token: t}}]
          """.formatted(apiServer.getPort()));
      ControlPlaneOptions options = ControlPlaneOptions.forConfigDir(c1).withRemoteConfigDirs(Map.of("cluster2", c2))
          .withPorts(0, 0).withRemoteSecrets(secrets, null, Duration.ofSeconds(30));
      try (ControlPlane cp = ControlPlane.start(options)) {
        browser.get("http://localhost:" + cp.monitoringPort() + "/ui");

        // The demo's two clusters, each synced, each in its own network; the remote one synced too.
        await().atMost(Duration.ofSeconds(30)).until(() -> "synced".equals(state("cluster1"))
            && "synced".equals(state("cluster2")) && "synced".equals(state("cluster3")));
        assertThat(networksOf("cluster1")).containsExactly("network-1");
        assertThat(networksOf("cluster2")).containsExactly("network-2");
        assertThat(networks()).contains("network-1", "network-2");
        assertThat(text("cp-cluster")).isEqualTo("cluster1");
        // network-2's east-west gateway, the demo's echo service with endpoints in both clusters, and
        // the one finding analyze reports for the demo (network-1 has no gateway).
        assertThat(count("[data-network='network-2'] [data-gateway]")).isPositive();
        await().atMost(Duration.ofSeconds(10)).until(() -> text("services").contains("echo.default.svc.cluster.local"));
        assertThat(text("services")).contains("cluster1/network-1", "cluster2/network-2");
        assertThat(text("findings")).contains("WEFT0301");
        assertThat(text("proxies")).contains("no proxies connected");
        screenshot("synced.png");

        // The remote cluster's API server goes away: the registry marks it stale once its watches have
        // been down for its lost-contact time (3 s, weft-registry's Timing.DEFAULTS.lostAfter), and the
        // page shows it at its next poll, within a second more (the figure is printed; the bounds
        // below are loose enough for a loaded machine).
        apiServer.destroy();
        apiServerUp = false;
        long gone = System.nanoTime();
        await().atMost(Duration.ofSeconds(15)).pollInterval(Duration.ofMillis(50)).until(() -> stale(cp, "cluster3"));
        long registryMs = (System.nanoTime() - gone) / 1_000_000;
        await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(50))
            .until(() -> "stale".equals(state("cluster3")));
        long pageMs = (System.nanoTime() - gone) / 1_000_000;
        System.out.printf("topology page: cluster3 stale in /debug/status %d ms and on the page %d ms after its API "
            + "server stopped%n", registryMs, pageMs);
        // The page adds one poll (1 s) and a fetch to what the control plane knows.
        assertThat(pageMs - registryMs).isLessThan(10_000);
        assertThat(state("cluster1")).isEqualTo("synced");
        await().atMost(Duration.ofSeconds(3)).until(() -> text("findings").contains("WEFT0402"));
        assertThat(staleReason("cluster3"))
            .contains("127.0.0.1:" + apiServer.getPort());
        Path shot = screenshot("stale.png");
        assertThat(Files.size(shot)).isPositive();
      }
    } finally {
      if (apiServerUp) apiServer.destroy();
    }
  }

  private static boolean stale(ControlPlane cp, String cluster) {
    return ((java.util.Collection<?>) cp.status().get("clusters")).stream()
        .map(weft.registry.MeshSnapshot.ClusterStatus.class::cast)
        .anyMatch(c -> c.clusterId().equals(cluster) && c.stale());
  }

  // The page redraws every second, so each read is one script run: no element is held across redraws.

  private String state(String cluster) {
    return (String) browser.executeScript("const e = document.querySelector(`[data-cluster='${arguments[0]}']`);"
        + " return e ? e.dataset.state : null;", cluster);
  }

  @SuppressWarnings("unchecked")
  private List<String> networksOf(String cluster) {
    return (List<String>) browser.executeScript("return [...document.querySelectorAll(`[data-cluster='${arguments[0]}']`)]"
        + ".map(e => e.closest('[data-network]').dataset.network);", cluster);
  }

  @SuppressWarnings("unchecked")
  private List<String> networks() {
    return (List<String>) browser.executeScript(
        "return [...document.querySelectorAll('[data-network]')].map(e => e.dataset.network);");
  }

  private long count(String css) {
    return (Long) browser.executeScript("return document.querySelectorAll(arguments[0]).length;", css);
  }

  private String text(String id) {
    return (String) browser.executeScript("return document.getElementById(arguments[0]).innerText;", id);
  }

  private String staleReason(String cluster) {
    return (String) browser.executeScript("const e = document.querySelector(`[data-cluster='${arguments[0]}'] .reason`);"
        + " return e ? e.innerText : '';", cluster);
  }

  /** Kept under target/topology-page/ as the test's artifact. */
  private Path screenshot(String name) throws Exception {
    Files.createDirectories(SCREENSHOTS);
    File png = browser.getScreenshotAs(OutputType.FILE);
    Path to = SCREENSHOTS.resolve(name);
    Files.copy(png.toPath(), to, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    return to;
  }
}
