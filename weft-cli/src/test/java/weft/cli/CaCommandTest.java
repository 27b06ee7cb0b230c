package weft.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code weft ca}: roots and intermediates, and what a person sees when they cannot be made. */
class CaCommandTest {
  @TempDir
  Path dir;

  @Test
  void anExistingRootIsNamedAndNeverOverwritten() throws Exception {
    Path root = dir.resolve("root");
    Weft first = Weft.run("ca", "init-root", "--out", root.toString());
    assertThat(first.exit()).isZero();
    assertThat(first.out()).contains("wrote " + root.resolve("root-cert.pem"));
    byte[] key = Files.readAllBytes(root.resolve("root-key.pem"));

    Weft again = Weft.run("ca", "init-root", "--out", root.toString());

    assertThat(again.exit()).isEqualTo(1);
    assertThat(again.errLines()).containsExactly("weft ca init-root: " + root.resolve("root-cert.pem")
        + ": already exists; a root is never overwritten; use another --out folder for a new one");
    assertThat(Files.readAllBytes(root.resolve("root-key.pem"))).isEqualTo(key);
  }

  @Test
  void anIntermediateNeedsAnExistingRootFolder() {
    Path missing = dir.resolve("no-root");

    Weft run = Weft.run("ca", "intermediate", "--root", missing.toString(), "--cluster", "cluster1", "--out",
        dir.resolve("c1").toString());

    assertThat(run.exit()).isEqualTo(1);
    assertThat(run.errLines()).containsExactly("weft ca intermediate: --root " + missing + ": no such folder; make "
        + "a root with weft ca init-root --out " + missing + ", or point --root at the folder that holds "
        + "root-cert.pem and root-key.pem");
    assertThat(dir.resolve("c1")).doesNotExist();
  }

  @Test
  void anIntermediateIsMadeFromTheRoot() {
    Path root = dir.resolve("root");
    assertThat(Weft.run("ca", "init-root", "--out", root.toString()).exit()).isZero();

    Weft run = Weft.run("ca", "intermediate", "--root", root.toString(), "--cluster", "cluster1", "--out",
        dir.resolve("c1").toString());

    assertThat(run.exit()).isZero();
    assertThat(dir.resolve("c1").resolve("ca-key.pem")).exists();
    assertThat(dir.resolve("c1").resolve("cert-chain.pem")).exists();
  }

  @Test
  void caAloneShowsItsUsageAndFails() {
    Weft run = Weft.run("ca");

    assertThat(run.exit()).isEqualTo(2);
    assertThat(run.errLines().get(0)).isEqualTo("weft ca: name a subcommand: init-root, intermediate");
    assertThat(run.err()).contains("Usage: weft ca").contains("init-root").contains("intermediate");
    assertThat(run.out()).isEmpty();
  }
}
