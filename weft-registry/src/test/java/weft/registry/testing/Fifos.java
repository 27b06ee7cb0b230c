package weft.registry.testing;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;

/** Named pipes for the hostile-folder tests: what a watcher must never open. */
public final class Fifos {
  private Fifos() {}

  /**
   * Makes a FIFO at {@code path} with coreutils' {@code mkfifo}, which every Linux machine these
   * tests run on has: its absence is a failure, not a reason to skip.
   */
  public static void make(Path path) throws Exception {
    Process p = new ProcessBuilder("mkfifo", path.toString()).redirectErrorStream(true).start();
    assertThat(p.waitFor()).as("mkfifo " + path + " exit code").isZero();
  }
}
