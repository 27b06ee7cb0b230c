package weft.controlplane;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Consumer;
import weft.model.ConfigProblem;
import weft.model.parse.Parsed;
import weft.registry.Registry;
import weft.registry.file.FileWatcher;
import weft.registry.file.WatchedFolder;

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
  private WatchedFolder folder;

  MeshFileSource(Path file, Parser<T> parser, Consumer<T> apply, Registry registry) {
    this.file = file.toAbsolutePath().normalize();
    this.parser = parser;
    this.apply = apply;
    this.registry = registry;
  }

  /**
   * Reads the file once (it must parse at start-up) and then watches it. Its folder is not read
   * recursively; a Kubernetes ConfigMap volume ({@code mesh -> ..data/mesh}) works, as the link
   * stays inside the folder.
   */
  void start() throws IOException {
    folder = new WatchedFolder(file.getParent(), p -> p.equals(file), false,
        WatchedFolder.reportingTo(registry, file.getParent(), "skipped:" + file));
    if (!read(true)) {
      throw new IOException(file + " is not valid; see the errors above");
    }
    watcher = new FileWatcher(folder, p -> read(false));
  }

  private synchronized boolean read(boolean first) {
    // Through the folder: a regular file (or a link inside the folder), bounded in size and time.
    WatchedFolder.Content content = folder.read(file);
    if (content.text() == null) {
      String why = content.absent() ? file + " does not exist" : content.refusal();
      report(List.of(ConfigProblem.error(file.toString(), null, null,
          "cannot read (" + why + "); the last good version keeps serving")));
      return false;
    }
    Parsed<T> parsed = parser.parse(file.toString(), content.text());
    report(parsed.problems());
    if (parsed.value() == null) return false;
    apply.accept(parsed.value());
    if (!first) LOG.log(System.Logger.Level.INFO, file + " reloaded: " + parsed.problems().size() + " warnings");
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
