package weft.demo;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;

/** The demo's configuration as {@code weft demo} writes it (split and outlier detection on), for tests elsewhere. */
public final class DemoConfig {
  private DemoConfig() {}

  public static void write(Path cluster1, Path cluster2) throws IOException {
    DemoMesh.write(cluster1, cluster2, Map.of("echo-a", 19081, "echo-b", 19082, "echo-west", 19083), 19443);
    DemoMesh.writeDestinationRule(cluster1, true);
    DemoMesh.writeSplit(cluster1, 80, 20);
  }
}
