package weft.registry.file;

import static java.nio.file.StandardWatchEventKinds.ENTRY_CREATE;
import static java.nio.file.StandardWatchEventKinds.ENTRY_DELETE;
import static java.nio.file.StandardWatchEventKinds.ENTRY_MODIFY;
import static java.nio.file.StandardWatchEventKinds.OVERFLOW;

import java.io.IOException;
import java.nio.file.ClosedWatchServiceException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.WatchEvent;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * Watches one {@link WatchedFolder} and reports changed paths, each once per short settle window.
 *
 * <p>The window exists because an editor or {@code Files.write} truncates before it writes: reading
 * at the first event could see an empty file and withdraw every resource in it. A few
 * milliseconds let the write finish without holding back a lone change noticeably. A slow rescan
 * backs up the kernel's events (they can overflow, and some filesystems send none).
 *
 * <p>Only real folders are watched, never a folder reached through a link: a link such as
 * {@code loop -> .} would register the folder a second time under another name, and the kernel
 * would then report its changes under that name. Changes to {@code ..}-prefixed entries (a
 * Kubernetes volume swapping {@code ..data}) trigger a rescan at once, since the files that link
 * through them change without an event of their own.
 *
 * <p>Threads: one takes the kernel's events, one applies changes ({@code onChange}, one path at a
 * time), one rescans; none of them ever waits on a file's content, and {@link #close} waits on none.
 */
public final class FileWatcher implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger(FileWatcher.class.getName());
  /** Long enough for a small write to complete, short against the 100 ms convergence target. */
  static final long SETTLE_MILLIS = 8;
  static final long RESCAN_MILLIS = 5_000;

  private final WatchedFolder folder;
  private final WatchService watchService;
  private final ScheduledExecutorService scheduler;
  private final Consumer<Path> onChange;
  /** Watched real folders by key. Guarded by itself. */
  private final Map<WatchKey, Path> keys = new HashMap<>();
  private final Set<Path> pending = new HashSet<>();
  /** path → size and time when last delivered or listed, to tell what a rescan must deliver. */
  private final Map<Path, Stamp> stamps = new ConcurrentHashMap<>();
  /** Rescans stat every file: kept off the thread that applies changes so they never wait behind it. */
  private final ScheduledExecutorService rescanner;
  private final Thread thread;

  /** {@code onChange} runs on the watcher's own thread, one path at a time; it reads through {@code folder}. */
  public FileWatcher(WatchedFolder folder, Consumer<Path> onChange) throws IOException {
    this.folder = folder;
    this.watchService = FileSystems.getDefault().newWatchService();
    this.onChange = onChange;
    this.scheduler = Executors.newSingleThreadScheduledExecutor(r -> daemon(r, "weft-file-watch-apply"));
    this.rescanner = Executors.newSingleThreadScheduledExecutor(r -> daemon(r, "weft-file-rescan"));
    synchronized (keys) {
      register(folder.root(), 0);
    }
    // Listed before the constructor returns: a change made right after start-up (a ConfigMap
    // volume's data swap, say) must differ from the stamps, so they cannot be taken after it.
    guarded("listing", this::recordStamps).run();
    scheduleRescan(RESCAN_MILLIS);
    this.thread = daemon(this::loop, "weft-file-watch");
    thread.start();
  }

  private static Thread daemon(Runnable r, String name) {
    Thread t = new Thread(r, name);
    t.setDaemon(true);
    return t;
  }

  /** Registers a real folder and, when the folder is read recursively, its real subfolders. */
  private void register(Path dir, int depth) throws IOException {
    keys.put(dir.register(watchService, ENTRY_CREATE, ENTRY_MODIFY, ENTRY_DELETE), dir);
    if (!folder.recursive() || depth >= 32) return;
    try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir)) {
      for (Path p : entries) {
        if (p.getFileName().toString().startsWith("..")) continue;
        if (Files.readAttributes(p, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS).isDirectory()) {
          register(p, depth + 1);
        }
      }
    }
  }

  private void loop() {
    while (true) {
      WatchKey key;
      try {
        key = watchService.take();
      } catch (InterruptedException | ClosedWatchServiceException e) {
        return;
      }
      try {
        handle(key);
      } catch (ClosedWatchServiceException e) {
        return;
      } catch (Throwable t) {
        LOG.log(System.Logger.Level.ERROR, "watching " + folder.root() + ": handling an event failed", t);
      }
    }
  }

  private void handle(WatchKey key) {
    Path dir;
    synchronized (keys) {
      dir = keys.get(key);
    }
    for (WatchEvent<?> event : key.pollEvents()) {
      if (event.kind() == OVERFLOW || dir == null) {
        rescanSoon();
        continue;
      }
      Path path = dir.resolve((Path) event.context());
      if (path.getFileName().toString().startsWith("..")) {
        rescanSoon(); // a Kubernetes volume swapped its data: files linking through it changed
        continue;
      }
      WatchedFolder.Entry entry = folder.entry(path);
      if (entry.type() == WatchedFolder.Type.FOLDER) {
        if (event.kind() == ENTRY_CREATE && folder.recursive()) {
          try {
            synchronized (keys) {
              register(path, 1);
            }
          } catch (IOException e) {
            LOG.log(System.Logger.Level.WARNING, "cannot watch new folder " + path + ": " + e.getMessage());
          }
          rescanSoon();
        }
        continue;
      }
      if (folder.accepts(path) || stamps.containsKey(path)) {
        schedule(path);
      } else if (entry.type() == WatchedFolder.Type.ABSENT && folder.recursive()) {
        // A folder moved away in one rename: its files get no events of their own.
        for (Path p : stamps.keySet()) {
          if (p.startsWith(path)) schedule(p);
        }
        if (folder.skipped().containsKey(path)) rescanSoon();
      } else if (entry.type() == WatchedFolder.Type.SKIPPED || folder.skipped().containsKey(path)) {
        rescanSoon(); // the listing reports it once, and forgets it once it is gone
      }
    }
    if (!key.reset()) {
      synchronized (keys) {
        keys.remove(key);
      }
    }
  }

  private void rescanSoon() {
    try {
      rescanner.execute(guarded("rescan", this::rescan));
    } catch (RejectedExecutionException closed) {
      // closing: nothing left to rescan for
    }
  }

  private void schedule(Path path) {
    synchronized (pending) {
      if (!pending.add(path)) return;
    }
    try {
      scheduler.schedule(() -> {
        synchronized (pending) {
          pending.remove(path);
        }
        deliver(path);
      }, SETTLE_MILLIS, TimeUnit.MILLISECONDS);
    } catch (RejectedExecutionException closed) {
      // closing: the change is not applied any more
    }
  }

  private void deliver(Path path) {
    // Only readable files are stamped: a file replaced by a FIFO is delivered once, not on every rescan.
    if (folder.entry(path).type() == WatchedFolder.Type.FILE) stamps.put(path, stamp(path)); else stamps.remove(path);
    try {
      onChange.accept(path);
    } catch (Throwable t) {
      // An Error too (OutOfMemoryError from whatever the handler did): logged, and the watcher carries on.
      LOG.log(System.Logger.Level.ERROR, "handling a change of " + path + " failed", t);
    }
  }

  /** The state the caller has already read at start: later differences are changes. */
  private void recordStamps() {
    for (Path p : folder.files()) stamps.putIfAbsent(p, stamp(p));
  }

  /**
   * The periodic rescan, every {@link #RESCAN_MILLIS} or, when a rescan takes long (a folder of
   * thousands of files), {@link #RESCAN_SHARE} times as long as the last one took: a safety net
   * for missed events should never cost a folder's owner more than a few percent of one core.
   */
  private void scheduleRescan(long delayMillis) {
    try {
      rescanner.schedule(() -> {
        long start = System.nanoTime();
        guarded("rescan", this::rescan).run();
        long tookMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        scheduleRescan(Math.max(RESCAN_MILLIS, tookMillis * RESCAN_SHARE));
      }, delayMillis, TimeUnit.MILLISECONDS);
    } catch (RejectedExecutionException closed) {
      // closing: no more rescans
    }
  }

  /** The periodic rescan waits at least this many times as long as the last one took. */
  static final long RESCAN_SHARE = 50;

  /** Catches anything the kernel's events missed by comparing size and modification time. */
  private void rescan() {
    Set<Path> seen = new HashSet<>(folder.files());
    for (Path p : seen) {
      if (!stamp(p).equals(stamps.get(p))) schedule(p);
    }
    for (Path p : Set.copyOf(stamps.keySet())) {
      if (!seen.contains(p)) schedule(p);
    }
  }

  private Runnable guarded(String what, Runnable task) {
    return () -> {
      try {
        task.run();
      } catch (Throwable t) {
        // A periodic task that throws is never run again: log it and keep the schedule alive.
        LOG.log(System.Logger.Level.ERROR, "watching " + folder.root() + ": " + what + " failed", t);
      }
    };
  }

  /** Size, modification time and file key (device and inode) of a file; {@link #ABSENT} for none. */
  private record Stamp(long size, long modifiedMillis, Object fileKey) {}

  private static final Stamp ABSENT = new Stamp(-1, -1, null);

  /** The stamp of what the path leads to (never opening it), or {@link #ABSENT}. */
  private static Stamp stamp(Path p) {
    try {
      BasicFileAttributes a = Files.readAttributes(p, BasicFileAttributes.class);
      return new Stamp(a.size(), a.lastModifiedTime().toMillis(), a.fileKey());
    } catch (IOException e) {
      return ABSENT;
    }
  }

  @Override
  public void close() {
    try {
      watchService.close();
    } catch (IOException ignored) {
      // closing twice or after a failure: nothing left to release
    }
    scheduler.shutdownNow();
    rescanner.shutdownNow();
    thread.interrupt();
  }
}
