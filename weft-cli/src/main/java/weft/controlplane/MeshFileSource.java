package weft.controlplane;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.function.Consumer;
import weft.model.ConfigProblem;
import weft.model.parse.Parsed;
import weft.registry.Registry;
import weft.registry.file.FileWatcher;

/**
 * One watched mesh-wide file (MeshConfig or MeshNetworks). A bad edit is reported and the last good
 * value keeps serving.
 */
final class MeshFileSource<T> implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger(MeshFileSource.class.getName());

  interface Parser<T> {
    Parsed<T> parse(String file, String content);
  }

  private final Path file;
  private final Parser<T> parser;
  private final Consumer<T> apply;
  private final Registry registry;
  private FileWatcher watcher;

  MeshFileSource(Path file, Parser<T> parser, Consumer<T> apply, Registry registry) {
    this.file = file.toAbsolutePath();
    this.parser = parser;
    this.apply = apply;
    this.registry = registry;
  }

  /** Reads the file once (it must parse at start-up) and then watches it. */
  void start() throws IOException {
    if (!read()) {
      throw new IOException(file + " is not valid; see the errors above");
    }
    watcher = new FileWatcher(Set.of(file.getParent()), p -> p.equals(file), p -> read());
  }

  private synchronized boolean read() {
    String text;
    try {
      text = Files.readString(file);
    } catch (IOException e) {
      report(List.of(ConfigProblem.error(file.toString(), null, null,
          "cannot read (" + e.getMessage() + "); the last good version keeps serving")));
      return false;
    }
    Parsed<T> parsed = parser.parse(file.toString(), text);
    report(parsed.problems());
    if (parsed.value() == null) return false;
    apply.accept(parsed.value());
    return true;
  }

  private void report(List<ConfigProblem> problems) {
    problems.forEach(p -> LOG.log(p.severity() == ConfigProblem.Severity.ERROR
        ? System.Logger.Level.ERROR : System.Logger.Level.WARNING, p.describe()));
    registry.reportProblems("file:" + file, problems);
  }

  @Override
  public void close() {
    if (watcher != null) watcher.close();
  }
}
