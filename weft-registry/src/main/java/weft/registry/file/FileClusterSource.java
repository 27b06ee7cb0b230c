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
  /** resource → the files that declare it; the last in path order wins, so event order does not matter. */
  private final Map<ResourceId, java.util.TreeSet<Path>> filesById = new HashMap<>();
  private FileWatcher watcher;

  public FileClusterSource(Path folder, String clusterId, Registry registry) {
    this.folder = folder;
    this.clusterId = clusterId;
    this.registry = registry;
  }

  /** Reads every file once, hands the registry one batch, then watches. */
  public synchronized void start() throws IOException {
    List<Path> files = yamlFiles();
    // Watch before reading, so an edit made meanwhile is not missed; its event waits for this method.
    watcher = new FileWatcher(Set.of(folder), FileClusterSource::isYaml, this::onChange);
    Map<ResourceId, Resource> initial = new HashMap<>();
    for (Path file : files) {
      readFile(file);
    }
    for (ResourceId id : filesById.keySet()) initial.put(id, effective(id));
    registry.update(clusterId, initial, true);
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

  /** Only the resources of the changed file are compared: the cost of an edit does not grow with the folder. */
  private synchronized void onChange(Path file) {
    Set<ResourceId> ids = new HashSet<>(byFile.getOrDefault(file, Map.of()).keySet());
    Map<ResourceId, Resource> before = new HashMap<>();
    for (ResourceId id : ids) before.put(id, effective(id));
    readFile(file);
    ids.addAll(byFile.getOrDefault(file, Map.of()).keySet());
    Map<ResourceId, Resource> changes = new HashMap<>();
    for (ResourceId id : ids) {
      Resource after = effective(id);
      if (!java.util.Objects.equals(before.get(id), after)) changes.put(id, after);
    }
    if (!changes.isEmpty()) registry.update(clusterId, changes, false);
  }

  /** Re-reads one file into {@link #byFile}, keeping last good resources where input is bad. */
  private void readFile(Path file) {
    String name = folder.relativize(file).toString();
    if (!Files.exists(file)) {
      setFile(file, null);
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
    setFile(file, next);
    registry.reportProblems(sourceKey(file), problems);
  }

  private String sourceKey(Path file) {
    return "file:" + file;
  }

  /** The version of a resource that serves: from the last file (in path order) that declares it. */
  private Resource effective(ResourceId id) {
    java.util.TreeSet<Path> files = filesById.get(id);
    return files == null ? null : byFile.get(files.last()).get(id);
  }

  private void setFile(Path file, Map<ResourceId, Resource> resources) {
    Map<ResourceId, Resource> old = resources == null ? byFile.remove(file) : byFile.put(file, resources);
    if (old != null) {
      for (ResourceId id : old.keySet()) {
        java.util.TreeSet<Path> files = filesById.get(id);
        files.remove(file);
        if (files.isEmpty()) filesById.remove(id);
      }
    }
    if (resources != null) {
      for (ResourceId id : resources.keySet()) filesById.computeIfAbsent(id, k -> new java.util.TreeSet<>()).add(file);
    }
  }

  @Override
  public synchronized void close() {
    if (watcher != null) watcher.close();
  }
}
