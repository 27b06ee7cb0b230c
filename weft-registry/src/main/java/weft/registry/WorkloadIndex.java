package weft.registry;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import weft.registry.MeshSnapshot.WorkloadAt;

/**
 * Every service port served at an address of a cluster: what a sidecar's inbound config is made
 * of, asked for on every push to a sidecar. Immutable and persistent: replacing one host's view
 * touches only that host's addresses, and every snapshot keeps its own index.
 *
 * <p>Each address lists its {@link WorkloadAt}s in host order, then in the host's endpoint order:
 * the order a scan of the sorted service map would give, whatever order the updates came in.
 */
final class WorkloadIndex {
  static final WorkloadIndex EMPTY = new WorkloadIndex(PersistentSortedMap.empty());

  private final PersistentSortedMap<Address, List<WorkloadAt>> byAddress;

  private WorkloadIndex(PersistentSortedMap<Address, List<WorkloadAt>> byAddress) {
    this.byAddress = byAddress;
  }

  /** A workload's address in one cluster (addresses of different clusters may overlap). */
  record Address(String clusterId, String address) implements Comparable<Address> {
    @Override
    public int compareTo(Address o) {
      int c = clusterId.compareTo(o.clusterId);
      return c != 0 ? c : address.compareTo(o.address);
    }
  }

  /** The entries at an address; none for a null part (a proxy's node id may lack one), as no endpoint has it. */
  List<WorkloadAt> at(String clusterId, String address) {
    if (clusterId == null || address == null) return List.of();
    List<WorkloadAt> found = byAddress.get(new Address(clusterId, address));
    return found == null ? List.of() : found;
  }

  /** This index with {@code host}'s entries replaced by those of {@code after} (null: the host is gone). */
  WorkloadIndex replace(String host, ServiceView before, ServiceView after) {
    // The host's own entries per address, in its endpoint order (the view's endpoints are sorted).
    Map<Address, List<WorkloadAt>> own = new HashMap<>();
    if (after != null) {
      for (WorkloadEndpoint e : after.endpoints()) {
        own.computeIfAbsent(new Address(e.clusterId(), e.address()), k -> new ArrayList<>()).add(new WorkloadAt(after, e));
      }
    }
    Set<Address> touched = new HashSet<>(own.keySet());
    if (before != null) before.endpoints().forEach(e -> touched.add(new Address(e.clusterId(), e.address())));
    PersistentSortedMap<Address, List<WorkloadAt>> next = byAddress;
    for (Address a : touched) {
      List<WorkloadAt> entries = merged(next.get(a), host, own.getOrDefault(a, List.of()));
      next = entries.isEmpty() ? next.without(a) : next.with(a, entries);
    }
    return next == byAddress ? this : new WorkloadIndex(next);
  }

  /** The other hosts' entries at {@code a} with this host's new ones placed by host order. */
  private static List<WorkloadAt> merged(List<WorkloadAt> current, String host, List<WorkloadAt> own) {
    List<WorkloadAt> out = new ArrayList<>();
    boolean placed = false;
    for (WorkloadAt w : current == null ? List.<WorkloadAt>of() : current) {
      int c = w.service().service().hostname().compareTo(host);
      if (c == 0) continue;
      if (c > 0 && !placed) {
        out.addAll(own);
        placed = true;
      }
      out.add(w);
    }
    if (!placed) out.addAll(own);
    return List.copyOf(out);
  }
}
