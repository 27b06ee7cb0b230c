package weft.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import weft.controlplane.ControlPlane;
import weft.controlplane.ControlPlaneOptions;
import weft.demo.DemoConfig;

/**
 * What the topology page is made of, over plain HTTP (runs where Chromium does not): its three
 * files, nothing else under {@code /ui}, and {@code /debug/topology} on the demo's configuration.
 */
class TopologyEndpointsTest {
  @TempDir
  Path tmp;
  final HttpClient http = HttpClient.newHttpClient();

  @Test
  @SuppressWarnings("unchecked")
  void servesThePageFilesOnlyAndTheDemosTopology() throws Exception {
    Path c1 = Files.createDirectory(tmp.resolve("cluster1"));
    Path c2 = Files.createDirectory(tmp.resolve("cluster2"));
    DemoConfig.write(c1, c2);
    ControlPlaneOptions options = ControlPlaneOptions.forConfigDir(c1).withRemoteConfigDirs(Map.of("cluster2", c2))
        .withPorts(0, 0);
    try (ControlPlane cp = ControlPlane.start(options)) {
      String base = "http://localhost:" + cp.monitoringPort();
      HttpResponse<String> bare = get(base + "/ui");
      assertThat(bare.statusCode()).isEqualTo(302);
      assertThat(bare.headers().firstValue("Location")).contains("/ui/");
      HttpResponse<String> page = get(base + "/ui/");
      assertThat(page.statusCode()).isEqualTo(200);
      assertThat(page.headers().firstValue("Content-Type")).contains("text/html; charset=utf-8");
      assertThat(page.body()).contains("<script src=\"app.js\"></script>", "href=\"style.css\"")
          .doesNotContain("http://", "https://");
      HttpResponse<String> js = get(base + "/ui/app.js");
      assertThat(js.headers().firstValue("Content-Type")).contains("text/javascript; charset=utf-8");
      assertThat(js.body()).contains("../debug/status", "../debug/topology", "../debug/analyze")
          .doesNotContain("innerHTML");
      assertThat(get(base + "/ui/style.css").statusCode()).isEqualTo(200);
      for (String other : List.of("/ui/ARCHITECTURE.md", "/ui/../weft/ui/app.js", "/ui/weft/ui/app.js", "/uix")) {
        assertThat(get(base + other).statusCode()).as(other).isEqualTo(404);
      }

      HttpResponse<String> topology = get(base + "/debug/topology");
      assertThat(topology.statusCode()).isEqualTo(200);
      Map<Object, Object> t = new ObjectMapper().readValue(topology.body(), Map.class);
      assertThat((List<Object>) t.get("networks")).containsExactly("network-1", "network-2");
      assertThat((Map<Object, Object>) t.get("clusterNetworks")).containsEntry("cluster1", List.of("network-1"))
          .containsEntry("cluster2", List.of("network-2"));
      assertThat((List<Object>) t.get("gateways")).singleElement().satisfies(g -> assertThat((Map<Object, Object>) g)
          .containsEntry("network", "network-2").containsEntry("cluster", "cluster2").containsEntry("port", 19443));
      Map<Object, Object> echo = ((List<Object>) t.get("services")).stream().map(s -> (Map<Object, Object>) s)
          .filter(m -> "echo.default.svc.cluster.local".equals(m.get("hostname"))).findFirst().orElseThrow();
      assertThat((List<Object>) echo.get("endpoints")).containsExactly(
          Map.of("cluster", "cluster1", "network", "network-1", "endpoints", 2, "healthy", 2),
          Map.of("cluster", "cluster2", "network", "network-2", "endpoints", 1, "healthy", 1));
    }
  }

  private HttpResponse<String> get(String url) throws Exception {
    return http.send(HttpRequest.newBuilder(URI.create(url)).build(), HttpResponse.BodyHandlers.ofString());
  }
}
