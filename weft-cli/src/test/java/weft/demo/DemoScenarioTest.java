package weft.demo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * {@code weft demo}'s story with real grpc-java xDS clients and servers, each step waited for by
 * state: the client has ACKed what the change made the control plane send it, then its calls land
 * as the step says. Failover to zone-b and to the other region, and the return to zone-a once
 * both are back, included.
 */
class DemoScenarioTest {
  /** Calls judged per look: enough that a weighted split's share is judged within its bounds. */
  private static final int SAMPLE = 200;
  private static final Duration CALL = Duration.ofSeconds(60);
  private static final Duration STEP = Duration.ofMinutes(3);

  @Test
  void everyStepOfTheDemoHappensFailbackToZoneAIncludedAndItsFilesGoAtTheEnd() throws Exception {
    DemoFolders folders = DemoFolders.create();
    Path root = folders.root();
    List<String> reached = new ArrayList<>();
    try (folders; LiveMesh mesh = LiveMesh.start(folders, new PrintStream(OutputStream.nullOutputStream()))) {
      mesh.call(CALL); // listener → route → cluster → endpoints have arrived
      assertKeysAndFoldersAreOwnerOnly(root);
      boolean first = true;
      for (Story.Step step : Story.steps(mesh, SAMPLE)) {
        Map<String, String> sentBefore = clientSentVersions(mesh);
        step.change().apply();
        if (!first) {
          // The change has reached the client: something new was sent to it, and it ACKed all of it.
          await().atMost(STEP).until(() -> {
            Map<String, Map<String, Object>> now = clientTypes(mesh);
            return !now.isEmpty() && now.values().stream().allMatch(t -> Boolean.TRUE.equals(t.get("acked")))
                && !sentVersions(now).equals(sentBefore);
          });
        }
        first = false;
        await().atMost(STEP).ignoreExceptions().until(() -> step.expected().matches(mesh.sample(SAMPLE, CALL)));
        reached.add(step.title());
      }
    }
    assertThat(reached).hasSize(7).last().asString().contains("returns to zone-a");
    assertThat(root).doesNotExist();
  }

  private static void assertKeysAndFoldersAreOwnerOnly(Path root) throws Exception {
    assertThat(Files.getPosixFilePermissions(root)).isEqualTo(PosixFilePermissions.fromString("rwx------"));
    List<Path> keys = new ArrayList<>();
    try (Stream<Path> children = Files.list(root)) {
      for (Path p : children.toList()) {
        if (Files.isDirectory(p)) {
          assertThat(Files.getPosixFilePermissions(p)).as(p.toString())
              .isEqualTo(PosixFilePermissions.fromString("rwx------"));
        }
      }
    }
    try (Stream<Path> all = Files.walk(root)) {
      all.filter(p -> p.getFileName().toString().endsWith("key.pem") && Files.isRegularFile(p)).forEach(keys::add);
    }
    assertThat(keys).as("the CA's key and each workload's key").hasSizeGreaterThanOrEqualTo(5);
    for (Path key : keys) {
      assertThat(Files.getPosixFilePermissions(key)).as(key.toString())
          .isEqualTo(PosixFilePermissions.fromString("rw-------"));
    }
  }

  /** What the control plane last sent the demo's client and whether it was ACKed, per type. */
  @SuppressWarnings("unchecked")
  private static Map<String, Map<String, Object>> clientTypes(LiveMesh mesh) {
    for (Map<String, Object> proxy : mesh.controlPlane().ads().proxyStatus()) {
      if (String.valueOf(proxy.get("id")).contains("~" + LiveMesh.CLIENT_POD + ".")) {
        return (Map<String, Map<String, Object>>) proxy.get("xds");
      }
    }
    return Map.of();
  }

  private static Map<String, String> clientSentVersions(LiveMesh mesh) {
    return sentVersions(clientTypes(mesh));
  }

  private static Map<String, String> sentVersions(Map<String, Map<String, Object>> types) {
    Map<String, String> out = new HashMap<>();
    types.forEach((type, t) -> out.put(type, String.valueOf(t.get("sentVersion"))));
    return out;
  }
}
