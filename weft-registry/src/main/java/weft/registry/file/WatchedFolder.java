package weft.registry.file;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;
import java.util.function.Predicate;
import weft.model.ConfigProblem;
import weft.model.parse.InputLimits;
import weft.registry.Registry;

/**
 * One watched folder and the only way its files are read: regular files, and links that resolve to
 * regular files inside the folder, at most {@link InputLimits#MAX_FILE_BYTES} each.
 *
 * <p>Everything else is skipped with one WARNING per path (not per rescan) naming the path and why:
 * FIFOs, devices and sockets (opening a FIFO blocks until a writer comes; a device such as
 * {@code /dev/zero} never ends), links out of the folder, links to folders (the folder's own
 * folders are read where they are, so a link such as {@code loop -> .} is never followed), links
 * that cannot be resolved (loops, dangling). Entries whose name starts with {@code ..} are
 * Kubernetes' volume internals ({@code ..data -> ..2024_xx}): never listed, but a file such as
 * {@code mesh -> ..data/mesh} resolves through them and is read.
 *
 * <p>A type is checked without following links before anything is opened, and a file is opened
 * with {@code NOFOLLOW_LINKS} at its resolved path, so a link swapped in meanwhile is not followed.
 * The read itself runs on its own thread and is given up after {@link #READ_TIMEOUT_MILLIS}: should
 * a FIFO still be swapped in between the check and the open, that read blocks alone and the caller
 * carries on (and a path whose read is still blocked is not opened again).
 */
public final class WatchedFolder {
  private static final System.Logger LOG = System.getLogger(WatchedFolder.class.getName());
  /** Far beyond reading 4 MiB from any disk; only a read that can never finish gets here. */
  static final long READ_TIMEOUT_MILLIS = 10_000;
  /** Deeper than any config tree; stops a walk that something unforeseen made endless. */
  private static final int MAX_DEPTH = 32;
  /** Reads are few and short; a thread blocked for good (see above) must not hold up the next. */
  private static final ExecutorService READERS = Executors.newCachedThreadPool(r -> {
    Thread t = new Thread(r, "weft-file-read");
    t.setDaemon(true);
    return t;
  });

  /** What is at a path, as far as this folder is concerned. */
  enum Type { FILE, FOLDER, ABSENT, SKIPPED }

  /** A path's type; {@code target} is the regular file to open (the resolved path for a link), {@code why} a skip's reason. */
  record Entry(Type type, Path target, String why) {}

  /**
   * The outcome of reading one file: its text, or absent, or refused with a reason that names the
   * file. {@code skipped} marks a refusal for what the path is (a FIFO, a link out): already
   * reported once as a warning, so a caller that held nothing from it has nothing to add.
   */
  public record Content(String text, boolean absent, String refusal, boolean skipped) {
    static Content text(String text) {
      return new Content(text, false, null, false);
    }

    static Content absentFile() {
      return new Content(null, true, null, false);
    }

    static Content refused(String why) {
      return new Content(null, false, why, false);
    }

    static Content skippedPath(String why) {
      return new Content(null, false, why, true);
    }
  }

  private final Path root;
  private final Path realRoot;
  private final Predicate<Path> accept;
  private final boolean recursive;
  private final Consumer<Map<Path, String>> onSkippedChange;
  /** path → why it is skipped, as last logged: a path is logged again only when its reason changes. */
  private final Map<Path, String> skipped = new ConcurrentHashMap<>();
  /** Paths whose read is still running past its timeout. */
  private final Set<Path> stuck = ConcurrentHashMap.newKeySet();

  /**
   * @param accept which files (by path) belong to the caller, e.g. {@code *.yaml}
   * @param recursive whether subfolders are read too
   * @param onSkippedChange told the skipped paths and reasons whenever they change (for reporting)
   */
  public WatchedFolder(Path root, Predicate<Path> accept, boolean recursive,
      Consumer<Map<Path, String>> onSkippedChange) throws IOException {
    this.root = root.toAbsolutePath().normalize();
    if (!Files.isDirectory(this.root)) {
      throw new IOException("folder " + root + " does not exist or is not a folder");
    }
    this.realRoot = this.root.toRealPath();
    this.accept = accept;
    this.recursive = recursive;
    this.onSkippedChange = onSkippedChange;
  }

  /**
   * Reports a folder's skipped paths to the registry as warnings under one key (each was logged
   * once already), so that they show in {@code /debug/status} and {@code weft status}.
   */
  public static Consumer<Map<Path, String>> reportingTo(Registry registry, Path root) {
    return reportingTo(registry, root, "skipped:" + root.toAbsolutePath().normalize());
  }

  /** As {@link #reportingTo(Registry, Path)}, under the given key (several readers of one folder). */
  public static Consumer<Map<Path, String>> reportingTo(Registry registry, Path root, String key) {
    Path base = root.toAbsolutePath().normalize();
    return skipped -> {
      List<ConfigProblem> warnings = new ArrayList<>();
      new TreeMap<>(skipped).forEach((path, why) -> warnings.add(ConfigProblem.warning(
          base.relativize(path).toString(), null, null, "skipped: " + why)));
      registry.reportProblems(key, warnings);
    };
  }

  public Path root() {
    return root;
  }

  boolean recursive() {
    return recursive;
  }

  boolean accepts(Path path) {
    return accept.test(path);
  }

  /** The paths skipped now, with why. */
  public Map<Path, String> skipped() {
    return Map.copyOf(skipped);
  }

  /**
   * The readable files the caller accepts, sorted; every other accepted path (and every link to a
   * folder) is skipped and reported once. Never follows a link into a folder.
   */
  public List<Path> files() {
    List<Path> files = new ArrayList<>();
    Set<Path> seenSkipped = new java.util.HashSet<>();
    walk(root, 0, files, seenSkipped);
    boolean changed = skipped.keySet().retainAll(seenSkipped);
    if (changed) onSkippedChange.accept(skipped());
    files.sort(null);
    return files;
  }

  private void walk(Path dir, int depth, List<Path> files, Set<Path> seenSkipped) {
    try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir)) {
      for (Path path : entries) {
        if (path.getFileName().toString().startsWith("..")) continue;
        Entry e = entry(path);
        switch (e.type()) {
          case FILE -> {
            if (accept.test(path)) {
              files.add(path);
              forget(path);
            }
          }
          case FOLDER -> {
            if (recursive && depth < MAX_DEPTH) walk(path, depth + 1, files, seenSkipped);
          }
          case SKIPPED -> {
            if (reportable(path, e)) {
              seenSkipped.add(path);
              skip(path, e.why());
            }
          }
          case ABSENT -> { }
        }
      }
    } catch (IOException | RuntimeException e) {
      LOG.log(System.Logger.Level.WARNING, "cannot list " + dir + ": " + e.getMessage());
    }
  }

  /**
   * Accepted names; in a folder read recursively also links to folders or that cannot be resolved,
   * whatever their name (loops or leaks of the tree being read).
   */
  private boolean reportable(Path path, Entry e) {
    return accept.test(path) || (recursive && e.why().startsWith("a link"));
  }

  /** What {@code path} is, checked without following links; a link is resolved and must stay inside. */
  Entry entry(Path path) {
    BasicFileAttributes attrs;
    try {
      attrs = Files.readAttributes(path, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
    } catch (NoSuchFileException e) {
      return new Entry(Type.ABSENT, null, null);
    } catch (IOException e) {
      return new Entry(Type.SKIPPED, null, "cannot be examined (" + e.getMessage() + ")");
    }
    if (attrs.isDirectory()) return new Entry(Type.FOLDER, path, null);
    if (attrs.isRegularFile()) return new Entry(Type.FILE, path, null);
    if (!attrs.isSymbolicLink()) {
      return new Entry(Type.SKIPPED, null, "is " + special(path) + ", not a regular file; only regular files "
          + "are read");
    }
    Path real;
    try {
      real = path.toRealPath();
    } catch (NoSuchFileException e) {
      return new Entry(Type.SKIPPED, null, "a link to nothing (dangling); it is read once its target exists");
    } catch (FileSystemException e) {
      String reason = String.valueOf(e.getReason());
      return new Entry(Type.SKIPPED, null, reason.contains("levels of symbolic links")
          ? "a link loop (its links lead back to each other); remove it"
          : "a link that cannot be resolved (" + reason + ")");
    } catch (IOException e) {
      return new Entry(Type.SKIPPED, null, "a link that cannot be resolved (" + e.getMessage() + ")");
    }
    if (!real.startsWith(realRoot)) {
      return new Entry(Type.SKIPPED, null, "a link out of the folder (to " + real + "); only files inside "
          + root + " are read");
    }
    BasicFileAttributes target;
    try {
      target = Files.readAttributes(real, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
    } catch (IOException e) {
      return new Entry(Type.SKIPPED, null, "a link whose target cannot be examined (" + e.getMessage() + ")");
    }
    if (target.isRegularFile()) return new Entry(Type.FILE, real, null);
    if (target.isDirectory()) {
      Path parent = path.getParent();
      boolean loop = false;
      try {
        loop = parent != null && parent.toRealPath().startsWith(real);
      } catch (IOException ignored) {
        // the parent vanished meanwhile: not a loop worth naming
      }
      return new Entry(Type.SKIPPED, null, loop
          ? "a link loop (it points to " + real + ", which contains it); remove it"
          : "a link to a folder; folders are read where they are, never through links");
    }
    return new Entry(Type.SKIPPED, null, "a link to " + special(real) + ", not to a regular file; only regular "
        + "files are read");
  }

  /** Names a special file's type for messages (FIFO, device, socket), from its mode bits where the platform tells. */
  private static String special(Path path) {
    try {
      int mode = (Integer) Files.getAttribute(path, "unix:mode", LinkOption.NOFOLLOW_LINKS);
      return switch (mode & 0170000) {
        case 0010000 -> "a FIFO (named pipe)";
        case 0020000 -> "a character device";
        case 0060000 -> "a block device";
        case 0140000 -> "a socket";
        default -> "a special file";
      };
    } catch (IOException | RuntimeException e) {
      return "a special file";
    }
  }

  /**
   * Reads one file, never following a link out of the folder, never opening anything but a regular
   * file, never more than the limit, and never waiting longer than {@link #READ_TIMEOUT_MILLIS}.
   */
  public Content read(Path path) {
    Entry e = entry(path);
    switch (e.type()) {
      case ABSENT -> {
        forget(path);
        return Content.absentFile();
      }
      case FOLDER -> {
        return Content.refused(path + " is a folder");
      }
      case SKIPPED -> {
        if (reportable(path, e)) skip(path, e.why());
        return Content.skippedPath(path + " is skipped: " + e.why());
      }
      case FILE -> {
        forget(path);
      }
    }
    if (!stuck.add(path)) {
      return Content.refused("an earlier read of " + path + " is still blocked; it is not opened again until "
          + "that read ends");
    }
    Future<Content> read;
    try {
      read = READERS.submit(() -> {
        try {
          return readBounded(path, e.target());
        } finally {
          stuck.remove(path);
        }
      });
    } catch (RuntimeException ex) {
      stuck.remove(path);
      return Content.refused("cannot read " + path + " (" + ex + ")");
    }
    try {
      return read.get(READ_TIMEOUT_MILLIS, TimeUnit.MILLISECONDS);
    } catch (TimeoutException ex) {
      read.cancel(true);
      LOG.log(System.Logger.Level.WARNING, "reading " + path + " did not finish within " + READ_TIMEOUT_MILLIS
          + " ms; skipped (is it still a regular file?)");
      return Content.refused("reading " + path + " did not finish within " + READ_TIMEOUT_MILLIS + " ms");
    } catch (InterruptedException ex) {
      Thread.currentThread().interrupt();
      read.cancel(true);
      return Content.refused("reading " + path + " was interrupted");
    } catch (ExecutionException ex) {
      Throwable cause = ex.getCause();
      if (cause instanceof Error error) {
        LOG.log(System.Logger.Level.ERROR, "reading " + path + " failed", error);
      }
      return Content.refused("cannot read " + path + " (" + cause + ")");
    }
  }

  private static Content readBounded(Path path, Path target) throws IOException {
    long size = Files.size(target);
    if (size > InputLimits.MAX_FILE_BYTES) return tooLarge(path, size);
    // NOFOLLOW_LINKS: the target was resolved and checked above; a link swapped in at it is refused.
    try (FileChannel channel = FileChannel.open(target, StandardOpenOption.READ, LinkOption.NOFOLLOW_LINKS)) {
      ByteArrayOutputStream bytes = new ByteArrayOutputStream((int) size + 1);
      ByteBuffer chunk = ByteBuffer.allocate(64 * 1024);
      while (channel.read(chunk) >= 0) {
        bytes.write(chunk.array(), 0, chunk.position());
        chunk.clear();
        // The size was checked before opening, but the file may grow (or never end) while read.
        if (bytes.size() > InputLimits.MAX_FILE_BYTES) return tooLarge(path, -1);
      }
      try {
        return Content.text(StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
            .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes.toByteArray())).toString());
      } catch (CharacterCodingException e) {
        return Content.refused(path + " is not UTF-8 text (" + e.getMessage() + "); save it as UTF-8");
      }
    } catch (NoSuchFileException e) {
      return Content.absentFile();
    }
  }

  private static Content tooLarge(Path path, long size) {
    return Content.refused(path + " is larger than " + InputLimits.describe() + ", the limit for one file ("
        + (size < 0 ? "it grew past it while read" : size + " bytes") + "); split it into smaller files");
  }

  private void skip(Path path, String why) {
    String before = skipped.put(path, why);
    if (Objects.equals(before, why)) return;
    LOG.log(System.Logger.Level.WARNING, path + " skipped: " + why);
    onSkippedChange.accept(skipped());
  }

  private void forget(Path path) {
    if (skipped.remove(path) != null) onSkippedChange.accept(skipped());
  }
}
