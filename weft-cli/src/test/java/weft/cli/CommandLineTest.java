package weft.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;

/** What every command shares: usage errors, checked values, help text, and the long-running commands' failures. */
class CommandLineTest {
  @TempDir
  Path dir;

  @Test
  void weftAloneShowsItsUsageAndFails() {
    Weft run = Weft.run();

    assertThat(run.exit()).isEqualTo(2);
    assertThat(run.errLines().get(0)).startsWith("weft: name a subcommand: control-plane, demo, status");
    assertThat(run.err()).contains("Usage: weft");
  }

  @Test
  void anUnknownSubcommandOrOptionIsOneLine() {
    Weft run = Weft.run("stauts");
    assertThat(run.exit()).isEqualTo(2);
    assertThat(run.errLines()).singleElement().asString().startsWith("weft: Unmatched argument at index 0: 'stauts'")
        .endsWith("; see weft --help");

    Weft option = Weft.run("status", "--control-plain", "x");
    assertThat(option.exit()).isEqualTo(2);
    assertThat(option.errLines()).singleElement().asString().startsWith("weft status: Unknown options: ")
        .contains("'--control-plain'").endsWith("; see weft status --help");
  }

  @Test
  void aNegativeDemoDurationIsRefusedNamingTheOption() {
    Weft run = Weft.run("demo", "--duration", "-3");

    assertThat(run.exit()).isEqualTo(2);
    assertThat(run.errLines()).containsExactly("weft demo: Invalid value for option '--duration': '-3' must be "
        + "at least 1; see weft demo --help");
  }

  @Test
  void aGatewayPortInUseIsNamedWithItsFlag() throws Exception {
    try (ServerSocket busy = FreePort.occupied()) {
      int port = busy.getLocalPort();

      Weft run = Weft.run("gateway", "--ip", "10.0.0.1", "--port", String.valueOf(port), "--health-port", "0");

      assertThat(run.exit()).isEqualTo(1);
      assertThat(run.errLines()).containsExactly("weft gateway: port " + port + " (--port) is already in use; stop "
          + "the process that holds it or choose another port with --port");
    }
    try (ServerSocket busy = FreePort.occupied()) {
      int port = busy.getLocalPort();

      Weft run = Weft.run("gateway", "--ip", "10.0.0.1", "--port", "0", "--health-port", String.valueOf(port));

      assertThat(run.exit()).isEqualTo(1);
      assertThat(run.errLines()).containsExactly("weft gateway: port " + port + " (--health-port) is already in "
          + "use; stop the process that holds it or choose another port with --health-port");
    }
  }

  @Test
  void gatewayAndAgentAddressesMustBeHostAndPort() {
    Weft gateway = Weft.run("gateway", "--ip", "10.0.0.1", "--xds-address", "localhost");
    assertThat(gateway.exit()).isEqualTo(2);
    assertThat(gateway.errLines()).containsExactly("weft gateway: Invalid value for option '--xds-address': "
        + "'localhost' is not HOST:PORT, e.g. localhost:15010 or [::1]:15010; see weft gateway --help");
  }

  @Test
  void theGatewaysCertificateFlagsGoTogetherAndNameTheirFiles() throws Exception {
    Path token = Files.writeString(dir.resolve("gateway-token"), "t");
    Weft alone = Weft.run("gateway", "--ip", "10.0.0.1", "--token-file", token.toString());
    assertThat(alone.exit()).isEqualTo(1);
    assertThat(alone.errLines()).singleElement().asString().startsWith("weft gateway: --token-file and --root-cert "
        + "go together");
    Weft caOnly = Weft.run("gateway", "--ip", "10.0.0.1", "--ca-address", "localhost:15012");
    assertThat(caOnly.exit()).isEqualTo(1);
    assertThat(caOnly.errLines()).singleElement().asString().contains("--ca-address needs --token-file");
    Weft missingRoot = Weft.run("gateway", "--ip", "10.0.0.1", "--token-file", token.toString(), "--root-cert",
        dir.resolve("nowhere.pem").toString());
    assertThat(missingRoot.exit()).isEqualTo(1);
    assertThat(missingRoot.errLines()).singleElement().asString().contains("--root-cert").contains("no such file");
  }

  @Test
  void theAgentNamesAMissingRootCertificateAndRefusesAZeroLifetime() throws Exception {
    Path token = Files.writeString(dir.resolve("token"), "t");
    List<String> args = new ArrayList<>(List.of("agent", "--root-cert", dir.resolve("root-cert.pem").toString(),
        "--token-file", token.toString(), "--out", dir.resolve("out").toString(), "--namespace", "default",
        "--service-account", "sa", "--pod-name", "p-1", "--ip", "10.0.0.5"));

    Weft missingRoot = Weft.run(args.toArray(String[]::new));
    assertThat(missingRoot.exit()).isEqualTo(1);
    assertThat(missingRoot.errLines()).containsExactly("weft agent: --root-cert " + dir.resolve("root-cert.pem")
        + ": no such file; point --root-cert at the mesh root certificate (PEM), e.g. root-cert.pem");

    args.addAll(List.of("--cert-ttl", "0"));
    Weft zeroTtl = Weft.run(args.toArray(String[]::new));
    assertThat(zeroTtl.exit()).isEqualTo(2);
    assertThat(zeroTtl.errLines()).containsExactly("weft agent: Invalid value for option '--cert-ttl': '0' must be "
        + "at least 1; see weft agent --help");
  }

  @Test
  void theAgentTakesSeveralControlPlanesOnlyWithItsXdsProxy() throws Exception {
    Path token = Files.writeString(dir.resolve("token"), "t");
    Path root = Files.writeString(dir.resolve("root-cert.pem"), "not read before the options are checked");
    Weft several = Weft.run("agent", "--root-cert", root.toString(), "--token-file", token.toString(), "--out",
        dir.resolve("out").toString(), "--namespace", "default", "--service-account", "sa", "--pod-name", "p-1",
        "--ip", "10.0.0.5", "--xds-address", "cp-1:15012", "--xds-address", "cp-2:15012");
    assertThat(several.exit()).isEqualTo(1);
    assertThat(several.errLines()).singleElement().asString().startsWith("weft agent: several xDS addresses need "
        + "the local xDS proxy");

    Weft badPort = Weft.run("agent", "--xds-proxy-port", "70000");
    assertThat(badPort.exit()).isEqualTo(2);
    assertThat(badPort.errLines()).singleElement().asString().contains("--xds-proxy-port");
  }

  @Test
  void theAgentsDnsOptionsTakeIpLiteralsOnly() {
    Weft badUpstream = Weft.run("agent", "--dns-port", "15053", "--dns-upstream", "dns.example.com");
    assertThat(badUpstream.exit()).isEqualTo(2);
    assertThat(badUpstream.errLines()).singleElement().asString()
        .contains("--dns-upstream").contains("the host must be an IP address");
    Weft badAddress = Weft.run("agent", "--dns-port", "15053", "--dns-address", "localhost");
    assertThat(badAddress.exit()).isEqualTo(2);
    assertThat(badAddress.errLines()).singleElement().asString().contains("--dns-address")
        .contains("'localhost' is not an IP address");
    Weft badPort = Weft.run("agent", "--dns-port", "70000");
    assertThat(badPort.exit()).isEqualTo(2);
    assertThat(badPort.errLines()).singleElement().asString().contains("--dns-port");
  }

  @Test
  void everyOptionOfEveryCommandHasADescriptionAndShowsItsDefault() {
    List<String> missing = new ArrayList<>();
    check(Main.commandLine(), missing);
    assertThat(missing).isEmpty();
  }

  @Test
  void helpShowsDefaultsAndExitsZero() {
    Weft help = Weft.run("agent", "--help");

    assertThat(help.exit()).isZero();
    assertThat(help.out()).contains("--xds-address=HOST:PORT").contains("Default: localhost:15010")
        .contains("Default: cluster1").contains("Default: the CA's (Istio's 24 hours).");
  }

  /** Collects "command option: what is missing" for options without a description or a visible default. */
  private static void check(CommandLine command, List<String> missing) {
    CommandSpec spec = command.getCommandSpec();
    for (OptionSpec option : spec.options()) {
      String name = spec.qualifiedName() + " " + option.longestName();
      String description = String.join(" ", option.description()).strip();
      if (description.isEmpty()) missing.add(name + ": no description");
      boolean showsDefault = option.defaultValue() != null
          || (option.description().length > 0 && option.description()[option.description().length - 1]
              .startsWith("Default:"));
      boolean needsNone = option.required() || option.usageHelp() || option.versionHelp() || option.arity().max == 0;
      if (!showsDefault && !needsNone) missing.add(name + ": no default shown");
    }
    if (!spec.usageMessage().showDefaultValues() && !spec.options().isEmpty()) {
      missing.add(spec.qualifiedName() + ": showDefaultValues is off");
    }
    command.getSubcommands().values().forEach(sub -> check(sub, missing));
  }
}
