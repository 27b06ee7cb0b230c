package weft.controlplane;

import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;
import weft.dns.alloc.Allocation;
import weft.dns.alloc.AddressStateFile;
import weft.dns.alloc.AutoAddress;
import weft.dns.alloc.HostKey;
import weft.model.ConfigProblem;
import weft.registry.ChangeEvent;
import weft.registry.MeshSnapshot;
import weft.registry.Registry;
import weft.xds.Generators;

/**
 * Keeps the automatic addresses of ServiceEntry hosts across restarts and control planes: after each
 * snapshot it takes the allocation the push side computed for it and, on the leader only, writes
 * what changed to the state file (file mode) or to the entries' {@code status.addresses}
 * (Kubernetes mode, through {@link ServiceEntryStatusWriter}). Problems of the allocation (an
 * exhausted range, a user address that collides) are reported as configuration warnings and errors
 * of the source {@code automatic addresses}.
 *
 * <p>The registry thread only hands the newest snapshot over; one thread of its own does the
 * work, skipping snapshots that a newer one replaced before it got to them.
 */
final class AutoAddressKeeper implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger(AutoAddressKeeper.class.getName());
  static final String PROBLEM_SOURCE = "automatic addresses";

  private final Registry registry;
  private final Generators generators;
  private final AddressStateFile stateFile;
  private final ServiceEntryStatusWriter statusWriter;
  private final BooleanSupplier leader;
  private final AtomicReference<MeshSnapshot> next = new AtomicReference<>();
  private final ExecutorService worker = Executors.newSingleThreadExecutor(r -> {
    Thread t = new Thread(r, "weft-auto-addresses");
    t.setDaemon(true);
    return t;
  });
  /** Touched by the worker thread only. */
  private Map<HostKey, AutoAddress> saved;
  private List<ConfigProblem> reported = List.of();

  /**
   * @param stateFile file mode's memory, or null
   * @param statusWriter Kubernetes mode's writer, or null
   * @param leader whether this control plane may write now (the only one in file mode; and not before
   *     the initial sync, while a partly read configuration could drop remembered hosts)
   */
  AutoAddressKeeper(Registry registry, Generators generators, AddressStateFile stateFile,
      ServiceEntryStatusWriter statusWriter, BooleanSupplier leader, Map<HostKey, AutoAddress> loaded) {
    this.registry = registry;
    this.generators = generators;
    this.stateFile = stateFile;
    this.statusWriter = statusWriter;
    this.leader = leader;
    this.saved = loaded;
  }

  /** A snapshot listener: runs on the registry thread, so it only hands the snapshot over. */
  void onSnapshot(MeshSnapshot snapshot, ChangeEvent change) {
    if (change.isEmpty()) return; // status only: nothing a ServiceEntry could have changed
    if (next.getAndSet(snapshot) != null) return;
    try {
      worker.execute(this::drain);
    } catch (java.util.concurrent.RejectedExecutionException closed) {
      next.set(null); // closed: nothing more is kept
    }
  }

  private void drain() {
    MeshSnapshot s = next.getAndSet(null);
    if (s == null) return;
    try {
      keep(s);
    } catch (RuntimeException e) {
      LOG.log(System.Logger.Level.ERROR, "keeping automatic addresses of snapshot " + s.version() + " failed; the "
          + "next change tries again", e);
    }
  }

  private void keep(MeshSnapshot snapshot) {
    Allocation a = generators.context(snapshot).autoAddresses();
    if (!a.problems().equals(reported)) {
      reported = a.problems();
      reported.forEach(p -> LOG.log(System.Logger.Level.WARNING, p.describe()));
      registry.reportProblems(PROBLEM_SOURCE, reported);
    }
    if (!leader.getAsBoolean()) return;
    if (stateFile != null && !Objects.equals(saved, a.addresses())) {
      try {
        stateFile.save(a.addresses());
        saved = a.addresses();
      } catch (IOException e) {
        LOG.log(System.Logger.Level.WARNING, "--state-dir: cannot write " + stateFile.path() + " (" + e.getMessage()
            + "); automatic addresses are kept in memory and written at the next change");
      }
    }
    if (statusWriter != null) statusWriter.write(snapshot, a);
  }

  /** Waits until every snapshot handed over so far has been kept (tests). */
  void flush() throws Exception {
    worker.submit(() -> { }).get();
  }

  /**
   * Lets a write under way finish (a state file half written, or its temporary file left behind,
   * would be worse than a late one), then stops; a write that hangs (an API server that does not
   * answer) is interrupted after 10 s.
   */
  @Override
  public void close() {
    next.set(null);
    worker.shutdown();
    try {
      if (!worker.awaitTermination(10, java.util.concurrent.TimeUnit.SECONDS)) worker.shutdownNow();
    } catch (InterruptedException e) {
      worker.shutdownNow();
      Thread.currentThread().interrupt();
    }
  }
}
