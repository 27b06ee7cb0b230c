package weft.dns.alloc;

import java.util.Collection;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import weft.model.ServiceEntry;

/**
 * This control plane's memory of the automatic addresses it gave: each allocation starts from the
 * last one (and, at start-up, from the state file), so that deleting an entry never lets a host
 * that had to step aside slide into the freed address. The addresses persisted in entries'
 * {@code status.addresses} take precedence over this memory, so control planes that share a config
 * cluster follow what the leader wrote.
 *
 * <p>Thread-safe: allocations for snapshots may be asked from several push threads and out of
 * order; memory moves forward only with the snapshot version.
 */
public final class AddressBook {
  private SortedMap<HostKey, AutoAddress> held;
  private long heldVersion = Long.MIN_VALUE;
  /**
   * Until {@link #settle}: hosts remembered (state file) whose entries have not been read yet keep
   * their addresses reserved, so that a partly read configuration at start-up gives them to no one.
   */
  private volatile boolean settled;

  public AddressBook() {
    this(Map.of());
    settled = true;
  }

  /** @param remembered what the state file held at start-up; reserved until {@link #settle} */
  public AddressBook(Map<HostKey, AutoAddress> remembered) {
    this.held = new TreeMap<>(remembered);
  }

  /** The whole configuration has been read: remembered hosts that are still absent are gone. */
  public void settle() {
    settled = true;
  }

  public boolean settled() {
    return settled;
  }

  /** The allocation for the entries of snapshot {@code version}. */
  public synchronized Allocation allocate(long version, Collection<ServiceEntry> entries) {
    Map<HostKey, AutoAddress> reserved = new TreeMap<>();
    if (!settled) {
      java.util.Set<HostKey> present = AddressAllocator.claimed(entries);
      held.forEach((k, a) -> {
        if (!present.contains(k)) reserved.put(k, a);
      });
    }
    Allocation a = AddressAllocator.allocate(entries, held, reserved);
    if (version >= heldVersion) {
      // A host that is gone releases its address; every current host keeps what it got.
      held = new TreeMap<>(a.addresses());
      held.putAll(reserved);
      heldVersion = version;
    }
    return a;
  }
}
