package weft.controlplane;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import weft.model.MeshConfig;
import weft.model.parse.MeshConfigParser;
import weft.registry.Registry;

/** {@code --mesh-config} as Kubernetes mounts it (a ConfigMap volume), and as it must never be read. */
class MeshFileSourceTest {
  @TempDir
  Path dir;
  Registry registry;
  MeshFileSource<MeshConfig> source;

  @BeforeEach
  void setUp() {
    registry = new Registry();
  }

  @AfterEach
  void tearDown() {
    if (source != null) source.close();
    registry.close();
  }

  private MeshFileSource<MeshConfig> source(Path file) {
    return new MeshFileSource<>(file, MeshConfigParser::parseMeshConfig, registry::setMeshConfig, registry);
  }

  @Test
  void configMapVolumeIsReadThroughItsLinksAndADataSwapApplies() throws Exception {
    Files.createDirectory(dir.resolve("..2024_01_01"));
    Files.writeString(dir.resolve("..2024_01_01/mesh"), "trustDomain: one.example\n");
    Files.createSymbolicLink(dir.resolve("..data"), Path.of("..2024_01_01"));
    Files.createSymbolicLink(dir.resolve("mesh"), Path.of("..data/mesh"));
    source = source(dir.resolve("mesh"));
    source.start();
    registry.flush();
    assertThat(registry.current().meshConfig().trustDomain()).isEqualTo("one.example");

    Files.createDirectory(dir.resolve("..2024_01_02"));
    Files.writeString(dir.resolve("..2024_01_02/mesh"), "trustDomain: two.example\n");
    Files.createSymbolicLink(dir.resolve("..data_tmp"), Path.of("..2024_01_02"));
    Files.move(dir.resolve("..data_tmp"), dir.resolve("..data"), StandardCopyOption.ATOMIC_MOVE,
        StandardCopyOption.REPLACE_EXISTING);

    await().atMost(Duration.ofSeconds(60))
        .until(() -> registry.current().meshConfig().trustDomain().equals("two.example"));
  }

  @Test
  void fifoAsMeshConfigIsRefusedAtStartWithoutBlocking() throws Exception {
    Path fifo = dir.resolve("mesh.yaml");
    // coreutils' mkfifo is on every Linux machine these tests run on: its absence fails the test.
    assertThat(new ProcessBuilder("mkfifo", fifo.toString()).start().waitFor()).isZero();
    source = source(fifo);

    assertThatThrownBy(source::start).isInstanceOf(IOException.class).hasMessageContaining("not valid");
    registry.flush();
    assertThat(registry.current().problems()).anySatisfy(p -> assertThat(p.message()).contains("FIFO"));
  }
}
