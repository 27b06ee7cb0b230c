package weft.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code --xds-auth}: a value it does not know, or the flag without a secure port, stops start-up with one line. */
class XdsAuthFlagTest {
  @TempDir Path config;

  private String run(String... args) {
    StringWriter err = new StringWriter();
    CommandLine cmd = new CommandLine(new Main());
    cmd.setErr(new PrintWriter(err));
    assertThat(cmd.execute(args)).isEqualTo(2);
    return err.toString();
  }

  @Test
  void anUnknownModeNamesTheAcceptedOnes() {
    assertThat(run("control-plane", "--config-dir", config.toString(), "--ca-dir", config.resolve("ca").toString(),
        "--xds-auth", "cert")).contains("--xds-auth 'cert' is not one of certificate, token, any, none");
  }

  @Test
  void theFlagWithoutASecurePortSaysWhatTurnsItOn() {
    assertThat(run("control-plane", "--config-dir", config.toString(), "--xds-auth", "token"))
        .contains("only --ca-dir turns the secure port on");
  }
}
