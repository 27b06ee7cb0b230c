package weft.xds.server;

import java.util.Arrays;
import java.util.Collection;
import java.util.Map;
import java.util.SortedMap;
import weft.xds.Generated;

/**
 * What a stream holds of one type: each resource's name and the 64-bit hash of the bytes it was
 * sent, sorted by name in two parallel arrays (about 12 bytes per resource with interned names).
 * Immutable: a push builds the next table, and the status summary shares the current one.
 */
final class SentTable {
  static final SentTable EMPTY = new SentTable(new String[0], new long[0]);

  private final String[] names;
  private final long[] hashes;

  private SentTable(String[] names, long[] hashes) {
    this.names = names;
    this.hashes = hashes;
  }

  /** Exactly the generated resources (a full-state type's response), reusing this table's name instances. */
  SentTable replacedBy(SortedMap<String, Generated> resources) {
    String[] n = new String[resources.size()];
    long[] h = new long[resources.size()];
    int k = 0;
    for (Map.Entry<String, Generated> e : resources.entrySet()) {
      n[k] = canonical(e.getKey());
      h[k++] = e.getValue().hash();
    }
    return new SentTable(n, h);
  }

  /** This table with {@code updates} (name → hash) put in and {@code removed} taken out. */
  SentTable with(SortedMap<String, Long> updates, Collection<String> removed) {
    if (updates.isEmpty() && removed.isEmpty()) return this;
    java.util.Set<String> gone = removed instanceof java.util.Set<String> s ? s : new java.util.HashSet<>(removed);
    String[] n = new String[names.length + updates.size()];
    long[] h = new long[n.length];
    int i = 0;
    int k = 0;
    var it = updates.entrySet().iterator();
    Map.Entry<String, Long> next = it.hasNext() ? it.next() : null;
    while (i < names.length || next != null) {
      int order = next == null ? -1 : i == names.length ? 1 : names[i].compareTo(next.getKey());
      if (order < 0) {
        if (!gone.contains(names[i])) {
          n[k] = names[i];
          h[k++] = hashes[i];
        }
        i++;
      } else {
        if (!gone.contains(next.getKey())) {
          n[k] = order == 0 ? names[i] : NameSet.intern(next.getKey());
          h[k++] = next.getValue();
        }
        if (order == 0) i++;
        next = it.hasNext() ? it.next() : null;
      }
    }
    return new SentTable(Arrays.copyOf(n, k), Arrays.copyOf(h, k));
  }

  /** Only the entries whose names are in {@code watched}. */
  SentTable retainedIn(NameSet watched) {
    int keep = 0;
    for (String n : names) if (watched.contains(n)) keep++;
    if (keep == names.length) return this;
    String[] n = new String[keep];
    long[] h = new long[keep];
    int k = 0;
    for (int i = 0; i < names.length; i++) {
      if (!watched.contains(names[i])) continue;
      n[k] = names[i];
      h[k++] = hashes[i];
    }
    return new SentTable(n, h);
  }

  int size() {
    return names.length;
  }

  String name(int i) {
    return names[i];
  }

  boolean contains(String name) {
    return Arrays.binarySearch(names, name) >= 0;
  }

  /** Whether the stream was sent exactly this content under this name. */
  boolean holds(String name, long hash) {
    int i = Arrays.binarySearch(names, name);
    return i >= 0 && hashes[i] == hash;
  }

  /**
   * A version that depends only on what is held (names and content hashes), so two control planes
   * with the same inputs send the same version, and a reconnecting client's version still matches.
   */
  String version() {
    long h = 0xcbf29ce484222325L;
    for (int i = 0; i < names.length; i++) {
      h = (h ^ names[i].hashCode()) * 0x100000001b3L;
      h = (h ^ hashes[i]) * 0x100000001b3L;
    }
    return Long.toHexString(h);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof SentTable other && Arrays.equals(names, other.names) && Arrays.equals(hashes, other.hashes);
  }

  @Override
  public int hashCode() {
    return Arrays.hashCode(hashes);
  }

  private String canonical(String name) {
    int i = Arrays.binarySearch(names, name);
    return i >= 0 ? names[i] : NameSet.intern(name);
  }
}
