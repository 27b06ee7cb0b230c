package weft.registry.file;

import static java.nio.file.StandardWatchEventKinds.ENTRY_CREATE;
import static java.nio.file.StandardWatchEventKinds.ENTRY_DELETE;
import static java.nio.file.StandardWatchEventKinds.ENTRY_MODIFY;
import static java.nio.file.StandardWatchEventKinds.OVERFLOW;

import java.io.IOException;
import java.nio.file.ClosedWatchServiceException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.WatchEvent;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Predicate;
import java.util.stream.Stream;

/**
 * Watches folders and reports changed paths, each once per short settle window.
 *
 * <p>The window exists because an editor or {@code Files.write} truncates before it writes: reading
 * at the first event could see an empty file and withdraw every resource in it. A few
 * milliseconds let the write finish without holding back a lone change noticeably. A slow rescan
 * backs up the kernel's events (they can overflow, and some filesystems send none).
 */
public final class FileWatcher implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger(FileWatcher.class.getName());
  /** Long enough for a small write to complete, short against the 100 ms convergence target. */
  static final long SETTLE_MILLIS = 8;
  static final long RESCAN_MILLIS = 5_000;

  private final WatchService watchService;
  private final ScheduledExecutorService scheduler;
  private final Consumer<Path> onChange;
  private final Map<WatchKey, Path> keys = new HashMap<>();
  private final Set<Path> pending = new HashSet<>();
  private final Set<Path> roots;
  private final Map<Path, String> stamps = new java.util.concurrent.ConcurrentHashMap<>();
  /** Rescans stat every file: kept off the thread that applies changes so they never wait behind it. */
  private final ScheduledExecutorService rescanner;
  private final Thread thread;
  private final Predicate<Path> accept;

  /** {@code onChange} runs on the watcher's own thread, one path at a time. */
  public FileWatcher(Set<Path> folders, Consumer<Path> onChange) throws IOException {
    this(folders, p -> true, onChange);
  }

  /** Watches only the paths {@code accept} takes (for example one file in a shared folder). */
  public FileWatcher(Set<Path> folders, Predicate<Path> accept, Consumer<Path> onChange) throws IOException {
    this.watchService = FileSystems.getDefault().newWatchService();
    this.onChange = onChange;
    this.accept = accept;
    this.roots = Set.copyOf(folders);
    this.scheduler = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "weft-file-watch-apply");
      t.setDaemon(true);
      return t;
    });
    this.rescanner = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "weft-file-rescan");
      t.setDaemon(true);
      return t;
    });
    for (Path folder : folders) registerTree(folder);
    rescanner.execute(this::recordStamps);
    rescanner.scheduleWithFixedDelay(this::rescan, RESCAN_MILLIS, RESCAN_MILLIS, TimeUnit.MILLISECONDS);
    this.thread = new Thread(this::loop, "weft-file-watch");
    thread.setDaemon(true);
    thread.start();
  }

  private void registerTree(Path folder) throws IOException {
    if (!Files.isDirectory(folder)) return;
    try (Stream<Path> dirs = Files.walk(folder)) {
      for (Path dir : (Iterable<Path>) dirs.filter(Files::isDirectory)::iterator) {
        keys.put(dir.register(watchService, ENTRY_CREATE, ENTRY_MODIFY, ENTRY_DELETE), dir);
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
      Path dir;
      synchronized (keys) {
        dir = keys.get(key);
      }
      for (WatchEvent<?> event : key.pollEvents()) {
        if (event.kind() == OVERFLOW || dir == null) {
          rescanner.execute(this::rescan);
          continue;
        }
        Path path = dir.resolve((Path) event.context());
        if (event.kind() == ENTRY_CREATE && Files.isDirectory(path)) {
          try {
            synchronized (keys) {
              registerTree(path);
            }
          } catch (IOException e) {
            LOG.log(System.Logger.Level.WARNING, "cannot watch new folder " + path + ": " + e.getMessage());
          }
          rescanner.execute(this::rescan);
          continue;
        }
        schedule(path);
      }
      key.reset();
    }
  }

  private void schedule(Path path) {
    if (!accept.test(path)) return;
    synchronized (pending) {
      if (!pending.add(path)) return;
    }
    scheduler.schedule(() -> {
      synchronized (pending) {
        pending.remove(path);
      }
      deliver(path);
    }, SETTLE_MILLIS, TimeUnit.MILLISECONDS);
  }

  private void deliver(Path path) {
    String stamp = stamp(path);
    if (stamp.equals("absent")) stamps.remove(path); else stamps.put(path, stamp);
    try {
      onChange.accept(path);
    } catch (RuntimeException e) {
      LOG.log(System.Logger.Level.ERROR, "handling a change of " + path + " failed", e);
    }
  }

  /** The state the caller has already read at start: later differences are changes. */
  private void recordStamps() {
    for (Path p : listFiles()) stamps.putIfAbsent(p, stamp(p));
  }

  /** Catches anything the kernel's events missed by comparing size and modification time. */
  private void rescan() {
    Set<Path> seen = listFiles();
    for (Path p : seen) {
      if (!stamp(p).equals(stamps.get(p))) schedule(p);
    }
    for (Path p : Set.copyOf(stamps.keySet())) {
      if (!seen.contains(p)) schedule(p);
    }
  }

  private Set<Path> listFiles() {
    Set<Path> seen = new HashSet<>();
    for (Path root : roots) {
      if (!Files.isDirectory(root)) continue;
      try (Stream<Path> files = Files.walk(root)) {
        files.filter(Files::isRegularFile).filter(accept).forEach(seen::add);
      } catch (IOException e) {
        LOG.log(System.Logger.Level.WARNING, "cannot list " + root + ": " + e.getMessage());
      }
    }
    return seen;
  }

  private static String stamp(Path p) {
    try {
      return Files.size(p) + "@" + Files.getLastModifiedTime(p).toMillis();
    } catch (IOException e) {
      return "absent";
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
