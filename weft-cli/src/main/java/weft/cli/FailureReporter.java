package weft.cli;

import java.io.PrintWriter;
import picocli.CommandLine;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParseResult;
import weft.agent.WeftAgent;
import weft.controlplane.StartupException;
import weft.security.ca.CaException;

/**
 * Turns what a command throws into what a person reads: one line naming the command and the
 * problem, a non-zero exit, and a stack trace only with {@code --debug}.
 *
 * <p>Expected failures (bad input, a port in use, an unreachable server) carry messages written for
 * the user; they are printed as they are. Anything else is a bug in Weft: it is printed as one line
 * too, saying so and how to see the stack trace.
 */
final class FailureReporter implements CommandLine.IExecutionExceptionHandler, CommandLine.IParameterExceptionHandler {
  /** The work failed. */
  static final int FAILED = 1;
  /** The command line is wrong (picocli's convention). */
  static final int USAGE = 2;

  @Override
  public int handleExecutionException(Exception e, CommandLine command, ParseResult parseResult) {
    PrintWriter err = command.getErr();
    boolean debug = debugRequested(parseResult);
    if (e instanceof ParameterException pe) {
      // Thrown by a command's own checks of its options (a pair that must not be given together).
      return handleParseException(pe, debug);
    }
    String message = expectedMessage(e);
    if (message != null) {
      err.println(prefix(command) + message);
    } else {
      err.println(prefix(command) + "unexpected error: " + e + (debug ? "" : " (run again with --debug for the stack trace)"));
    }
    if (debug) e.printStackTrace(err);
    err.flush();
    return FAILED;
  }

  @Override
  public int handleParseException(ParameterException e, String[] args) {
    return handleParseException(e, false);
  }

  private int handleParseException(ParameterException e, boolean debug) {
    CommandLine command = e.getCommandLine();
    PrintWriter err = command.getErr();
    ParseResult parsed = command.getParseResult();
    boolean groupWithoutSubcommand = command.getCommandSpec().userObject() instanceof Group
        && !(e instanceof CommandLine.UnmatchedArgumentException) && (parsed == null || !parsed.hasSubcommand());
    if (groupWithoutSubcommand) {
      err.println(prefix(command) + "name a subcommand: " + String.join(", ", command.getSubcommands().keySet()));
      command.usage(err);
    } else {
      err.println(prefix(command) + e.getMessage() + "; see " + command.getCommandSpec().qualifiedName() + " --help");
    }
    if (debug) e.printStackTrace(err);
    err.flush();
    // analyze keeps istioctl's exit codes, which scripts of Istio users already test for.
    return command.getCommandSpec().userObject() instanceof AnalyzeCommand ? AnalyzeCommand.EXIT_USAGE : USAGE;
  }

  /** The message of a failure whose text is written for the user, or null for anything else. */
  static String expectedMessage(Throwable e) {
    if (e instanceof CommandFailure || e instanceof StartupException || e instanceof CaException
        || e instanceof WeftAgent.AgentException) {
      return e.getMessage() == null ? e.toString() : e.getMessage();
    }
    return null;
  }

  /** Whether {@code --debug} was given to the command or any of its parents. */
  static boolean debugRequested(ParseResult parseResult) {
    for (ParseResult r = parseResult; r != null; r = r.subcommand()) {
      if (r.hasMatchedOption("--debug")) return true;
    }
    return false;
  }

  private static String prefix(CommandLine command) {
    return command.getCommandSpec().qualifiedName() + ": ";
  }

  /** A command that only groups subcommands ({@code weft}, {@code weft ca}): run alone it shows its usage. */
  interface Group {}
}
