package weft.registry.file;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Stream;
import weft.model.ConfigProblem;
import weft.model.Resource;
import weft.model.ResourceId;
import weft.model.parse.ParsedFile;
import weft.model.parse.ResourceParser;
import weft.registry.Registry;

/**
 * One cluster's state read from a folder of YAML manifests, watched for changes.
 *
 * <p>Bad input never costs what was good: a file that cannot be parsed keeps serving what it held
 * before, and a resource rejected by validation keeps its last accepted version. Each file's
 * problems are reported to the registry under the file's name, and replaced when it is fixed.
 */
public final class FileClusterSource implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger(FileClusterSource.class.getName());

  private final Path folder;
  private final String clusterId;
  private final Registry registry;
  /** file → the resources it currently contributes (last good). Touched by one thread at a time. */
  private final Map<Path, Map<ResourceId, Resource>> byFile = new TreeMap<>();
  private FileWatcher watcher;

  public FileClusterSource(Path folder, String clusterId, Registry registry) {
    this.folder = folder;
    this.clusterId = clusterId;
    this.registry = registry;
  }

  /** Reads every file once, hands the registry one batch, then watches. */
  public synchronized void start() throws IOException {
    Map<ResourceId, Resource> initial = new HashMap<>();
    for (Path file : yamlFiles()) {
      readFile(file);
    }
    byFile.values().forEach(initial::putAll);
    registry.update(clusterId, initial, true);
    watcher = new FileWatcher(Set.of(folder), FileClusterSource::isYaml, this::onChange);
  }

  private List<Path> yamlFiles() throws IOException {
    if (!Files.isDirectory(folder)) {
      throw new IOException("config folder " + folder + " does not exist or is not a folder");
    }
    try (Stream<Path> files = Files.walk(folder)) {
      return files.filter(Files::isRegularFile).filter(FileClusterSource::isYaml).sorted().toList();
    }
  }

  static boolean isYaml(Path p) {
    String n = p.getFileName().toString();
    return (n.endsWith(".yaml") || n.endsWith(".yml")) && !n.startsWith(".");
  }

  private synchronized void onChange(Path file) {
    Map<ResourceId, Resource> before = effective();
    readFile(file);
    Map<ResourceId, Resource> after = effective();
    Map<ResourceId, Resource> changes = new HashMap<>();
    Set<ResourceId> ids = new HashSet<>(before.keySet());
    ids.addAll(after.keySet());
    for (ResourceId id : ids) {
      Resource a = after.get(id);
      if (!java.util.Objects.equals(before.get(id), a)) changes.put(id, a);
    }
    if (!changes.isEmpty()) registry.update(clusterId, changes, false);
  }

  /** Re-reads one file into {@link #byFile}, keeping last good resources where input is bad. */
  private void readFile(Path file) {
    String name = folder.relativize(file).toString();
    if (!Files.exists(file)) {
      byFile.remove(file);
      registry.reportProblems(sourceKey(file), List.of());
      return;
    }
    String text;
    try {
      text = Files.readString(file, StandardCharsets.UTF_8);
    } catch (IOException e) {
      registry.reportProblems(sourceKey(file), List.of(ConfigProblem.error(name, null, null,
          "cannot read the file (" + e.getMessage() + "); its previous content keeps serving")));
      return;
    }
    ParsedFile parsed = ResourceParser.parse(name, text);
    Map<ResourceId, Resource> previous = byFile.getOrDefault(file, Map.of());
    List<ConfigProblem> problems = new ArrayList<>(parsed.problems());
    if (parsed.unreadable()) {
      problems.forEach(p -> LOG.log(System.Logger.Level.ERROR, p.describe() + " (the file's last good content keeps serving)"));
      registry.reportProblems(sourceKey(file), problems);
      return;
    }
    Map<ResourceId, Resource> next = new HashMap<>();
    for (Resource r : parsed.resources()) next.put(r.id(), r);
    for (ConfigProblem p : problems) {
      if (p.severity() == ConfigProblem.Severity.ERROR && p.resource() != null && !next.containsKey(p.resource())
          && previous.containsKey(p.resource())) {
        // A rejected edit must not delete what was serving: keep the last accepted version.
        next.put(p.resource(), previous.get(p.resource()));
      }
      LOG.log(p.severity() == ConfigProblem.Severity.ERROR ? System.Logger.Level.ERROR : System.Logger.Level.WARNING,
          p.describe());
    }
    byFile.put(file, next);
    registry.reportProblems(sourceKey(file), problems);
  }

  private String sourceKey(Path file) {
    return "file:" + file;
  }

  /** Later files win when two declare the same resource, so the result does not depend on event order. */
  private Map<ResourceId, Resource> effective() {
    Map<ResourceId, Resource> all = new HashMap<>();
    byFile.values().forEach(all::putAll);
    return all;
  }

  @Override
  public synchronized void close() {
    if (watcher != null) watcher.close();
  }
}
