package weft.cli;

import java.time.Instant;
import java.util.logging.ConsoleHandler;
import java.util.logging.Formatter;
import java.util.logging.Level;
import java.util.logging.LogManager;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/** One line per log record on stderr: time, level, logger, message. */
final class Logging {
  private Logging() {}

  static void configure() {
    LogManager.getLogManager().reset();
    ConsoleHandler handler = new ConsoleHandler();
    handler.setLevel(Level.ALL);
    handler.setFormatter(new Formatter() {
      @Override
      public String format(LogRecord r) {
        String name = r.getLoggerName() == null ? "" : r.getLoggerName();
        String shortName = name.substring(name.lastIndexOf('.') + 1);
        StringBuilder b = new StringBuilder().append(Instant.ofEpochMilli(r.getMillis())).append(' ')
            .append(r.getLevel().getName()).append(' ').append(shortName).append(": ").append(formatMessage(r));
        if (r.getThrown() != null) b.append(" (").append(r.getThrown()).append(')');
        return b.append(System.lineSeparator()).toString();
      }
    });
    Logger root = Logger.getLogger("");
    root.addHandler(handler);
    root.setLevel(Level.INFO);
    // grpc-java is chatty at INFO about xDS internals; its warnings still show.
    Logger.getLogger("io.grpc").setLevel(Level.WARNING);
    // While a cluster is down fabric8 logs a stack trace per kind and retry; our source logs one
    // line with the reason and marks the cluster stale instead.
    Logger.getLogger("io.fabric8.kubernetes.client.informers.impl.cache.Reflector").setLevel(Level.OFF);
    Logger.getLogger("io.fabric8.kubernetes.client.jdkhttp.JdkWebSocketImpl").setLevel(Level.OFF);
    Logger.getLogger("io.fabric8").setLevel(Level.WARNING);
  }
}
