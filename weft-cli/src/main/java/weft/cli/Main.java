package weft.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;

/**
 * The {@code weft} command. An expected failure of any subcommand is one line on stderr (what,
 * where, what to do) and a non-zero exit: 1 when the work failed, 2 when the command line is wrong.
 */
@Command(name = "weft", mixinStandardHelpOptions = true, version = "weft 0.1.0", showDefaultValues = true,
    description = "A multicluster service-mesh control plane that speaks Istio's APIs.",
    subcommands = {ControlPlaneCommand.class, DemoCommand.class, StatusCommand.class, ProxyStatusCommand.class, ProxyConfigCommand.class,
        RemoteClustersCommand.class, CreateRemoteSecretCommand.class, CaCommand.class, AgentCommand.class,
        GatewayCommand.class, MeshCommand.class, AnalyzeCommand.class, WhyCommand.class})
public final class Main implements FailureReporter.Group {
  /** Read by {@link FailureReporter} through the parse result, in whichever subcommand it was given. */
  @Option(names = "--debug", scope = ScopeType.INHERIT,
      description = "On failure, print the stack trace too; log records carry theirs. Default: off.")
  boolean debug;

  public static void main(String[] args) {
    Logging.configure();
    System.exit(commandLine().execute(args));
  }

  /** The whole command tree with Weft's failure reporting; tests run commands through it in-process. */
  static CommandLine commandLine() {
    CommandLine cl = new CommandLine(new Main());
    FailureReporter reporter = new FailureReporter();
    cl.setExecutionStrategy(parseResult -> {
      Logging.debug(FailureReporter.debugRequested(parseResult));
      return new CommandLine.RunLast().execute(parseResult);
    });
    cl.setExecutionExceptionHandler(reporter);
    cl.setParameterExceptionHandler(reporter);
    return cl;
  }
}
