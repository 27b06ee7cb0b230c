package weft.registry.file;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import weft.registry.testing.Fifos;
import weft.model.ConfigProblem;
import weft.model.parse.InputLimits;
import weft.registry.ClusterSettings;
import weft.registry.MeshSnapshot;
import weft.registry.Registry;

/**
 * A watched folder holding what must never be read (FIFOs, links out, link loops, oversized
 * files) reports each once and keeps applying later changes; Kubernetes volume links work.
 * Each test waits on the later change being applied: the events of the bad path come first, so a
 * watcher stuck on it would never apply the change.
 */
class HostileFolderTest {
  private static final Duration WAIT = Duration.ofSeconds(30);
  static final String HOST = "web.default.svc.cluster.local";

  @TempDir
  Path dir;
  Registry registry;
  FileClusterSource source;

  @AfterEach
  void stop() {
    if (source != null) source.close();
    if (registry != null) registry.close();
  }

  private void start() throws IOException {
    registry = new Registry();
    registry.addCluster(new ClusterSettings("c1", "", "istio-system"), true);
    source = new FileClusterSource(dir, "c1", registry);
    source.start();
    registry.flush();
  }

  private MeshSnapshot snapshot() {
    return registry.current();
  }

  private int port() {
    return snapshot().service(HOST) == null ? -1 : snapshot().service(HOST).service().ports().get(0).number();
  }

  private void awaitPort(int port) {
    await().atMost(WAIT).until(() -> port() == port);
  }

  /** The warning reported for {@code name} (relative to the folder), or null. */
  private String skipWarning(String name) {
    return snapshot().problems().stream()
        .filter(p -> p.severity() == ConfigProblem.Severity.WARNING && name.equals(p.file()))
        .map(ConfigProblem::message).findFirst().orElse(null);
  }

  @Test
  void fifoNamedYamlIsSkippedOnceAndLaterChangesStillApply() throws Exception {
    Files.writeString(dir.resolve("web.yaml"), FileClusterSourceTest.service(80));
    start();

    Fifos.make(dir.resolve("pipe.yaml"));
    Files.writeString(dir.resolve("web.yaml"), FileClusterSourceTest.service(8080));

    awaitPort(8080);
    await().atMost(WAIT).until(() -> skipWarning("pipe.yaml") != null);
    assertThat(skipWarning("pipe.yaml")).contains("FIFO", "not a regular file");
    // One warning, nothing more: a FIFO held nothing, so there is no error to add.
    assertThat(snapshot().problems()).filteredOn(p -> "pipe.yaml".equals(p.file())).hasSize(1);

    Files.writeString(dir.resolve("web.yaml"), FileClusterSourceTest.service(8081));
    awaitPort(8081);
  }

  @Test
  void fifoPresentAtStartIsReportedAndCloseReturns() throws Exception {
    Files.writeString(dir.resolve("web.yaml"), FileClusterSourceTest.service(80));
    Fifos.make(dir.resolve("pipe.yaml"));
    start();

    assertThat(port()).isEqualTo(80);
    await().atMost(WAIT).until(() -> skipWarning("pipe.yaml") != null);
    FileClusterSource s = source;
    source = null;
    assertTimeoutPreemptively(WAIT, s::close);
  }

  @Test
  void linkLoopIsReportedNeverFollowedAndForgottenOnceRemoved() throws Exception {
    Files.writeString(dir.resolve("web.yaml"), FileClusterSourceTest.service(80));
    start();

    Files.createSymbolicLink(dir.resolve("loop"), Path.of("."));
    Files.writeString(dir.resolve("web.yaml"), FileClusterSourceTest.service(8080));

    awaitPort(8080);
    await().atMost(WAIT).until(() -> skipWarning("loop") != null);
    assertThat(skipWarning("loop")).contains("link loop");
    // Never read through the loop: no resource or problem comes from loop/web.yaml.
    assertThat(snapshot().problems()).noneMatch(p -> p.file() != null && p.file().startsWith("loop/"));

    Files.delete(dir.resolve("loop"));
    Files.writeString(dir.resolve("web.yaml"), FileClusterSourceTest.service(8081));
    awaitPort(8081);
    await().atMost(WAIT).until(() -> skipWarning("loop") == null);
  }

  @Test
  void linkToDevZeroIsALinkOutOfTheFolderAndNeverOpened() throws Exception {
    Path zero = Path.of("/dev/zero");
    assertThat(zero).as("/dev/zero").exists();
    Files.writeString(dir.resolve("web.yaml"), FileClusterSourceTest.service(80));
    start();

    Files.createSymbolicLink(dir.resolve("zero.yaml"), zero);
    Files.writeString(dir.resolve("web.yaml"), FileClusterSourceTest.service(8080));

    awaitPort(8080);
    await().atMost(WAIT).until(() -> skipWarning("zero.yaml") != null);
    assertThat(skipWarning("zero.yaml")).contains("link out of the folder");
  }

  @Test
  void fileOverTheLimitIsRefusedNamingTheLimitAndItsLastGoodContentKeepsServing() throws Exception {
    Files.writeString(dir.resolve("web.yaml"), FileClusterSourceTest.service(80));
    start();

    String big = FileClusterSourceTest.service(8080) + "# " + "x".repeat(InputLimits.MAX_FILE_BYTES) + "\n";
    // Written whole, then renamed: a reader must never see the valid first part of a large write.
    Files.writeString(dir.resolve("big.tmp"), big);
    Files.move(dir.resolve("big.tmp"), dir.resolve("web.yaml"), StandardCopyOption.ATOMIC_MOVE,
        StandardCopyOption.REPLACE_EXISTING);

    await().atMost(WAIT).until(() -> snapshot().problems().stream().anyMatch(p -> p.file().equals("web.yaml")
        && p.severity() == ConfigProblem.Severity.ERROR));
    assertThat(snapshot().problems()).filteredOn(p -> p.file().equals("web.yaml")).singleElement()
        .satisfies(p -> assertThat(p.message()).contains("larger than", "4 MiB",
            String.valueOf(InputLimits.MAX_FILE_BYTES), "keeps serving"));
    assertThat(port()).isEqualTo(80);
  }

  @Test
  void kubernetesVolumeLinksAreReadAndADataSwapApplies() throws Exception {
    Files.createDirectory(dir.resolve("..2024_01_01"));
    Files.writeString(dir.resolve("..2024_01_01/web.yaml"), FileClusterSourceTest.service(80));
    Files.createSymbolicLink(dir.resolve("..data"), Path.of("..2024_01_01"));
    Files.createSymbolicLink(dir.resolve("web.yaml"), Path.of("..data/web.yaml"));
    start();

    assertThat(port()).isEqualTo(80);

    // The kubelet's update: a new timestamped folder, then ..data swapped to it in one rename.
    Files.createDirectory(dir.resolve("..2024_01_02"));
    Files.writeString(dir.resolve("..2024_01_02/web.yaml"), FileClusterSourceTest.service(8080));
    Files.createSymbolicLink(dir.resolve("..data_tmp"), Path.of("..2024_01_02"));
    Files.move(dir.resolve("..data_tmp"), dir.resolve("..data"), StandardCopyOption.ATOMIC_MOVE,
        StandardCopyOption.REPLACE_EXISTING);

    awaitPort(8080);
    assertThat(snapshot().problems()).isEmpty();
    assertThat(snapshot().services()).hasSize(1);
  }

  @Test
  void successfulReloadIsLoggedAtInfoWithCounts() throws Exception {
    Files.writeString(dir.resolve("web.yaml"), FileClusterSourceTest.service(80));
    Set<String> messages = ConcurrentHashMap.newKeySet();
    Logger logger = Logger.getLogger(FileClusterSource.class.getName());
    Handler handler = new Handler() {
      @Override
      public void publish(LogRecord r) {
        if (r.getLevel() == java.util.logging.Level.INFO) messages.add(r.getMessage());
      }

      @Override
      public void flush() {}

      @Override
      public void close() {}
    };
    logger.addHandler(handler);
    try {
      start();
      Files.writeString(dir.resolve("web.yaml"), FileClusterSourceTest.service(8080));
      awaitPort(8080);
      await().atMost(WAIT).until(() -> messages.stream().anyMatch(m -> m.contains("1 file read (web.yaml)")));
      assertThat(messages).contains("config-dir " + dir + ": 1 files read, 1 resources, 0 errors")
          .contains("config-dir " + dir + ": 1 file read (web.yaml), 1 resources changed, 0 removed, 0 errors");
    } finally {
      logger.removeHandler(handler);
    }
  }

  @Test
  void folderMovedAwayInOneRenameWithdrawsItsResources(@TempDir Path elsewhere) throws Exception {
    Files.createDirectory(dir.resolve("sub"));
    Files.writeString(dir.resolve("sub/web.yaml"), FileClusterSourceTest.service(80));
    start();
    assertThat(port()).isEqualTo(80);

    Files.move(dir.resolve("sub"), elsewhere.resolve("sub"), StandardCopyOption.ATOMIC_MOVE);

    await().atMost(WAIT).until(() -> snapshot().service(HOST) == null);
  }

  /** The watcher alone: a loop never makes it deliver paths through the link. */
  @Test
  void watcherNeverDeliversAPathThroughALink() throws Exception {
    Files.writeString(dir.resolve("web.yaml"), "a: 1\n");
    Set<Path> delivered = ConcurrentHashMap.newKeySet();
    WatchedFolder folder = new WatchedFolder(dir, FileClusterSource::isYaml, true, skipped -> { });
    try (FileWatcher watcher = new FileWatcher(folder, delivered::add)) {
      Files.createSymbolicLink(dir.resolve("loop"), Path.of("."));
      Files.writeString(dir.resolve("web.yaml"), "a: 2\n");
      await().atMost(WAIT).until(() -> delivered.contains(folder.root().resolve("web.yaml")));
      assertThat(delivered).allSatisfy(p -> assertThat(p.toString()).doesNotContain("loop"));
      assertThat(folder.files()).containsExactly(folder.root().resolve("web.yaml"));
      assertThat(folder.skipped()).containsOnlyKeys(folder.root().resolve("loop"));
    }
    assertThat(List.copyOf(delivered)).isNotEmpty();
  }
}
