package weft.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.jar.JarFile;
import org.junit.jupiter.api.Test;

/**
 * Runs in the verify phase, after the shade plugin made the runnable jar (see weft-cli's pom): the
 * jar the Dockerfile copies exists, and it starts the weft command.
 */
class DockerfileJarCheck {
  @Test
  void theJarTheDockerfileCopiesExistsAndItsMainClassIsTheCli() throws Exception {
    Path jar = DeployFolder.repository().resolve(DockerfileFacts.read().copiedJar());
    assertThat(jar).as("run mvn package first").isRegularFile();
    try (JarFile j = new JarFile(jar.toFile())) {
      String main = j.getManifest().getMainAttributes().getValue("Main-Class");
      assertThat(main).isEqualTo(Main.class.getName());
      assertThat(j.getEntry(main.replace('.', '/') + ".class")).isNotNull();
      // Everything the CLI needs is inside: fabric8, grpc, picocli.
      assertThat(j.getEntry("picocli/CommandLine.class")).isNotNull();
      assertThat(j.getEntry("io/fabric8/kubernetes/client/KubernetesClient.class")).isNotNull();
    }
    assertThat(Files.size(jar)).isGreaterThan(1_000_000);
  }
}
