package weft.registry.file;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import weft.model.ConfigProblem;
import weft.model.Resource;
import weft.model.ResourceId;
import weft.model.parse.ParsedFile;
import weft.model.parse.ResourceParser;
import weft.registry.Registry;

/**
 * One cluster's state read from a folder of YAML manifests, watched for changes.
 *
 * <p>Bad input never costs what was good: a file that cannot be read or parsed keeps serving what
 * it held before, and a resource whose document is rejected keeps its last accepted version, how
 * the document broke notwithstanding ({@link LastGood} says how a broken document is matched to
 * what it served). A resource is withdrawn only when its document or its file is deleted. Each
 * file's problems are reported to the registry under the file's name, and replaced when it is
 * fixed; what the folder holds that is not read at all (FIFOs, links out, loops) is reported once
 * by {@link WatchedFolder}.
 */
public final class FileClusterSource implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger(FileClusterSource.class.getName());

  private final Path root;
  private final String clusterId;
  private final Registry registry;
  /** file → what it serves now (last good). Touched by one thread at a time (this object's lock). */
  private final Map<Path, LastGood.Served> byFile = new TreeMap<>();
  /** resource → the files that declare it; the last in path order wins, so event order does not matter. */
  private final Map<ResourceId, TreeSet<Path>> filesById = new HashMap<>();
  /** Resources declared by several files, with those files as last reported. */
  private final Map<ResourceId, List<String>> duplicates = new HashMap<>();
  private volatile WatchedFolder folder;
  private volatile FileWatcher watcher;
  private volatile boolean closed;

  public FileClusterSource(Path folder, String clusterId, Registry registry) {
    this.root = folder;
    this.clusterId = clusterId;
    this.registry = registry;
  }

  /** Reads every file once, hands the registry one batch, then watches. */
  public synchronized void start() throws IOException {
    try {
      folder = new WatchedFolder(root, FileClusterSource::isYaml, true, WatchedFolder.reportingTo(registry, root));
    } catch (IOException e) {
      throw new IOException("config folder " + root + " does not exist or is not a folder", e);
    }
    // Watch before reading, so an edit made meanwhile is not missed; its event waits for this method.
    watcher = new FileWatcher(folder, this::onChange);
    List<Path> files = folder.files();
    int errors = 0;
    for (Path file : files) errors += readFile(file);
    Map<ResourceId, Resource> initial = new HashMap<>();
    for (ResourceId id : filesById.keySet()) initial.put(id, effective(id));
    reportDuplicates(filesById.keySet());
    registry.update(clusterId, initial, true);
    LOG.log(System.Logger.Level.INFO, "config-dir " + root + ": " + files.size() + " files read, "
        + initial.size() + " resources, " + errors + " errors");
  }

  static boolean isYaml(Path p) {
    String n = p.getFileName().toString();
    return (n.endsWith(".yaml") || n.endsWith(".yml")) && !n.startsWith(".");
  }

  /** Only the resources of the changed file are compared: the cost of an edit does not grow with the folder. */
  private synchronized void onChange(Path file) {
    if (closed) return;
    Set<ResourceId> ids = new HashSet<>(byFile.getOrDefault(file, LastGood.Served.NONE).resources().keySet());
    Map<ResourceId, Resource> before = new HashMap<>();
    for (ResourceId id : ids) before.put(id, effective(id));
    int errors = readFile(file);
    ids.addAll(byFile.getOrDefault(file, LastGood.Served.NONE).resources().keySet());
    Map<ResourceId, Resource> changes = new HashMap<>();
    int removed = 0;
    for (ResourceId id : ids) {
      Resource after = effective(id);
      if (Objects.equals(before.get(id), after)) continue;
      changes.put(id, after);
      if (after == null) removed++;
    }
    reportDuplicates(ids);
    if (!changes.isEmpty()) registry.update(clusterId, changes, false);
    LOG.log(System.Logger.Level.INFO, "config-dir " + root + ": 1 file read (" + name(file) + "), "
        + (changes.size() - removed) + " resources changed, " + removed + " removed, " + errors + " errors");
  }

  /**
   * Re-reads one file into {@link #byFile}, keeping last good resources where input is bad.
   * Returns how many errors the file has.
   */
  private int readFile(Path file) {
    String name = name(file);
    WatchedFolder.Content content = folder.read(file);
    if (content.absent()) {
      setFile(file, null);
      registry.reportProblems(sourceKey(file), List.of());
      return 0;
    }
    if (content.refusal() != null) {
      boolean held = byFile.containsKey(file);
      if (content.skipped() && !held) {
        // Not a file Weft reads (a FIFO, a link out): warned about once already, nothing to keep.
        registry.reportProblems(sourceKey(file), List.of());
        return 0;
      }
      ConfigProblem problem = ConfigProblem.error(name, null, null, content.refusal()
          + (held ? "; its previous content keeps serving" : ""));
      LOG.log(System.Logger.Level.ERROR, problem.describe());
      registry.reportProblems(sourceKey(file), List.of(problem));
      return 1;
    }
    ParsedFile parsed = ResourceParser.parse(name, content.text());
    List<ConfigProblem> problems = new ArrayList<>(parsed.problems());
    int errors = (int) problems.stream().filter(p -> p.severity() == ConfigProblem.Severity.ERROR).count();
    if (parsed.unreadable()) {
      problems.forEach(p -> LOG.log(System.Logger.Level.ERROR, p.describe() + " (the file's last good content keeps serving)"));
      registry.reportProblems(sourceKey(file), problems);
      return errors;
    }
    LastGood.Served served = LastGood.serve(byFile.getOrDefault(file, LastGood.Served.NONE), parsed);
    for (ConfigProblem p : problems) {
      LOG.log(p.severity() == ConfigProblem.Severity.ERROR ? System.Logger.Level.ERROR : System.Logger.Level.WARNING,
          p.describe());
    }
    for (ResourceId id : served.kept()) {
      LOG.log(System.Logger.Level.WARNING, name + ": " + id + " was rejected; its last good version keeps serving");
    }
    setFile(file, served);
    registry.reportProblems(sourceKey(file), problems);
    return errors;
  }

  /**
   * One warning per resource that two or more files declare, naming every file and the one that
   * serves (the last in path order); withdrawn once only one file declares it.
   */
  private void reportDuplicates(Set<ResourceId> ids) {
    for (ResourceId id : List.copyOf(ids)) {
      TreeSet<Path> files = filesById.get(id);
      String source = "duplicate:" + root + ":" + id;
      if (files == null || files.size() < 2) {
        if (duplicates.remove(id) != null) registry.reportProblems(source, List.of());
        continue;
      }
      List<String> names = files.stream().map(this::name).toList();
      if (names.equals(duplicates.put(id, names))) continue; // reported already, logged once
      String winner = name(files.last());
      ConfigProblem p = ConfigProblem.warning(winner, id, "metadata.name", id + " is declared in "
          + names.size() + " files (" + String.join(", ", names) + "); the version in " + winner + " serves, as the "
          + "last in path order, and the others are ignored; keep it in one file");
      LOG.log(System.Logger.Level.WARNING, p.describe());
      registry.reportProblems(source, List.of(p));
    }
  }

  private String name(Path file) {
    return folder.root().relativize(file.toAbsolutePath().normalize()).toString();
  }

  private String sourceKey(Path file) {
    return "file:" + file;
  }

  /** The version of a resource that serves: from the last file (in path order) that declares it. */
  private Resource effective(ResourceId id) {
    TreeSet<Path> files = filesById.get(id);
    return files == null ? null : byFile.get(files.last()).resources().get(id);
  }

  private void setFile(Path file, LastGood.Served served) {
    LastGood.Served old = served == null ? byFile.remove(file) : byFile.put(file, served);
    if (old != null) {
      for (ResourceId id : old.resources().keySet()) {
        TreeSet<Path> files = filesById.get(id);
        files.remove(file);
        if (files.isEmpty()) filesById.remove(id);
      }
    }
    if (served != null) {
      for (ResourceId id : served.resources().keySet()) filesById.computeIfAbsent(id, k -> new TreeSet<>()).add(file);
    }
  }

  /**
   * Every resource with the files that declare it (relative to the folder, in path order: the last
   * one's version serves). For diagnostics: which file decided a resource, and names declared twice.
   */
  public synchronized java.util.SortedMap<ResourceId, List<String>> declaringFiles() {
    java.util.SortedMap<ResourceId, List<String>> out = new TreeMap<>();
    filesById.forEach((id, files) -> out.put(id, files.stream().map(this::name).toList()));
    return out;
  }

  /** The cluster this folder describes. */
  public String clusterId() {
    return clusterId;
  }

  /** Not synchronized: closing never waits for a change being applied. */
  @Override
  public void close() {
    closed = true;
    FileWatcher w = watcher;
    if (w != null) w.close();
  }
}
