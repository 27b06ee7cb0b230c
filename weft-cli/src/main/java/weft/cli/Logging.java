package weft.cli;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.Instant;
import java.util.List;
import java.util.logging.ConsoleHandler;
import java.util.logging.Formatter;
import java.util.logging.Level;
import java.util.logging.LogManager;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/**
 * One line per log record on stderr: time, level, logger, message. Libraries' own loggers are
 * quieted: Weft's sources report what they see (an unreachable API server, a bad port) in one line
 * of their own.
 */
final class Logging {
  /**
   * The loggers whose levels are set here. JUL's LogManager holds loggers weakly: a level set on a
   * logger nobody references is lost at the next garbage collection, and the library's logger
   * created later inherits INFO from the root. Holding them here keeps the levels for the process.
   */
  private static final List<Logger> QUIETED = List.of(
      // grpc-java is chatty at INFO about xDS internals; its warnings still show.
      Logger.getLogger("io.grpc"),
      // While an API server is down fabric8 logs a stack trace per kind and retry, at SEVERE; our
      // cluster sources log one line with the reason and mark the cluster stale instead.
      Logger.getLogger("io.fabric8"));

  private static volatile boolean debug;

  private Logging() {}

  static void configure() {
    LogManager.getLogManager().reset();
    ConsoleHandler handler = new ConsoleHandler();
    handler.setLevel(Level.ALL);
    handler.setFormatter(new OneLine());
    Logger root = Logger.getLogger("");
    root.addHandler(handler);
    root.setLevel(Level.INFO);
    reapplyLevels();
  }

  /**
   * Sets the library loggers' levels (again: {@link LogManager#reset()}, as in {@link #configure},
   * puts every logger back to inheriting the root's level).
   */
  static void reapplyLevels() {
    for (Logger logger : QUIETED) {
      logger.setLevel(levelOf(logger.getName(), debug));
    }
  }

  private static Level levelOf(String library, boolean debug) {
    if (library.equals("io.fabric8")) return debug ? Level.WARNING : Level.OFF;
    return Level.WARNING;
  }

  /** {@code --debug}: log records carry their stack traces, and fabric8's own warnings show. */
  static void debug(boolean on) {
    debug = on;
    reapplyLevels();
  }

  private static final class OneLine extends Formatter {
    @Override
    public String format(LogRecord r) {
      String name = r.getLoggerName() == null ? "" : r.getLoggerName();
      String shortName = name.substring(name.lastIndexOf('.') + 1);
      StringBuilder b = new StringBuilder().append(Instant.ofEpochMilli(r.getMillis())).append(' ')
          .append(r.getLevel().getName()).append(' ').append(shortName).append(": ").append(formatMessage(r));
      if (r.getThrown() != null) {
        if (debug) {
          StringWriter trace = new StringWriter();
          r.getThrown().printStackTrace(new PrintWriter(trace));
          b.append(System.lineSeparator()).append(trace.toString().stripTrailing());
        } else {
          b.append(" (").append(r.getThrown()).append(')');
        }
      }
      return b.append(System.lineSeparator()).toString();
    }
  }
}
