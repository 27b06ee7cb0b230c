package weft.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code weft} command. */
@Command(name = "weft", mixinStandardHelpOptions = true, version = "weft 0.1.0",
    description = "A multicluster service-mesh control plane that speaks Istio's APIs.",
    subcommands = {ControlPlaneCommand.class, DemoCommand.class, StatusCommand.class, ProxyStatusCommand.class, ProxyConfigCommand.class,
        RemoteClustersCommand.class, CreateRemoteSecretCommand.class, CaCommand.class, AgentCommand.class,
        GatewayCommand.class})
public final class Main implements Runnable {
  public static void main(String[] args) {
    Logging.configure();
    System.exit(new CommandLine(new Main()).execute(args));
  }

  @Override
  public void run() {
    new CommandLine(this).usage(System.out);
  }
}
