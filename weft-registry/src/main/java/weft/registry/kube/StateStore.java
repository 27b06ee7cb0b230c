package weft.registry.kube;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import weft.model.ConfigProblem;
import weft.model.Resource;
import weft.model.parse.ParsedFile;
import weft.model.parse.ResourceParser;

/**
 * Each cluster's last known state, one file per cluster in a folder ({@code --state-dir}), so that a
 * control plane restarted while an API server is down still serves that cluster.
 *
 * <p>A file is a YAML stream of the cluster's accepted objects, one JSON object per document and
 * line, as the API server sent them: it is read back through the same parser, and a person can read
 * or {@code kubectl apply} it. Files are replaced atomically, so a crash leaves the old or the new
 * state, never half of one. Safe for concurrent use on different clusters.
 */
public final class StateStore {
  private static final System.Logger LOG = System.getLogger(StateStore.class.getName());

  private final Path dir;

  public StateStore(Path dir) {
    this.dir = dir;
  }

  /** The file that holds a cluster's state. */
  public Path file(String clusterId) {
    return dir.resolve(fileName(clusterId));
  }

  /** A cluster's state as of its last save; null when none was saved. */
  record Saved(Instant savedAt, List<Stored> objects) {}

  /** One accepted object: the model and the JSON it came from. */
  record Stored(Resource resource, String json) {}

  /** Replaces a cluster's saved state with {@code objects} (JSON documents, in a stable order). */
  void save(String clusterId, Collection<String> objects) throws IOException {
    Files.createDirectories(dir);
    StringBuilder text = new StringBuilder("# Last known state of cluster ").append(clusterId)
        .append(", kept by Weft; one object per document.\n");
    for (String json : objects) text.append("---\n").append(json).append('\n');
    Path target = file(clusterId);
    Path tmp = Files.createTempFile(dir, "." + target.getFileName(), ".tmp");
    try {
      try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
        ByteBuffer bytes = ByteBuffer.wrap(text.toString().getBytes(StandardCharsets.UTF_8));
        while (bytes.hasRemaining()) ch.write(bytes);
        ch.force(true); // on disk before the rename makes it the state
      }
      try {
        Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      } catch (AtomicMoveNotSupportedException e) {
        Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
      }
    } finally {
      Files.deleteIfExists(tmp);
    }
  }

  /**
   * Reads a cluster's saved state. A document the parser now rejects (a file written by another
   * version) is left out with a log line; the rest is still served.
   */
  Saved load(String clusterId) throws IOException {
    Path file = file(clusterId);
    List<String> lines;
    Instant savedAt;
    try {
      savedAt = Files.getLastModifiedTime(file).toInstant();
      lines = Files.readAllLines(file, StandardCharsets.UTF_8);
    } catch (NoSuchFileException e) {
      return null;
    }
    List<Stored> objects = new ArrayList<>();
    String name = file.toString();
    for (String line : lines) {
      if (!line.startsWith("{")) continue;
      ParsedFile parsed = ResourceParser.parse(name, line);
      for (ConfigProblem p : parsed.problems()) {
        // An error in a kept resource (a TLS mode served fail-closed) does not leave it out.
        if (p.severity() == ConfigProblem.Severity.ERROR && parsed.resources().isEmpty()) {
          LOG.log(System.Logger.Level.WARNING, p.describe() + " (left out of the restored state)");
        }
      }
      if (parsed.resources().size() == 1) objects.add(new Stored(parsed.resources().get(0), line));
    }
    return new Saved(savedAt, objects);
  }

  /** Forgets a cluster (its remote secret was deleted). */
  void delete(String clusterId) throws IOException {
    Files.deleteIfExists(file(clusterId));
  }

  /**
   * Cluster ids are user input: anything outside a safe set of characters is escaped, so an id can
   * neither leave the folder nor hide as a dot file.
   */
  static String fileName(String clusterId) {
    StringBuilder b = new StringBuilder();
    byte[] bytes = clusterId.getBytes(StandardCharsets.UTF_8);
    for (int i = 0; i < bytes.length; i++) {
      int c = bytes[i] & 0xff;
      boolean safe = c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_'
          || c == '.' && i > 0;
      if (safe) b.append((char) c); else b.append('%').append(String.format("%02X", c));
    }
    return b.append(".yaml").toString();
  }
}
