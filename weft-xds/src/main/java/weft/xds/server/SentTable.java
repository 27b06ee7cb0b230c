package weft.xds.server;

import java.util.Arrays;
import java.util.Collection;
import java.util.Map;
import java.util.SortedMap;
import weft.xds.Generated;

/**
 * What a stream holds of one type: each resource's name and the 64-bit hash of the bytes it was
 * sent, sorted by name in parallel arrays (about 12 bytes per resource with interned names).
 * Immutable: a push builds the next table, and the status summary shares the current one.
 *
 * <p>Hashes are kept in blocks of {@value #BLOCK}: the common push changes one resource of a
 * thousand, and its next table shares the names and every block but the one it changed, instead
 * of copying 8 KB of hashes per stream per change.
 */
final class SentTable {
  private static final int BLOCK = 64;
  private static final int SHIFT = 6;
  static final SentTable EMPTY = new SentTable(new String[0], new long[0]);

  private final String[] names;
  /** Hash of {@code names[i]} at {@code blocks[i >>> SHIFT][i & (BLOCK - 1)]}. */
  private final long[][] blocks;
  /** Sum over entries of {@link #mix}: order-free, so an update adjusts it instead of rehashing the table. */
  private final long digest;

  private SentTable(String[] names, long[] hashes) {
    this(names, blocksOf(hashes), digestOf(names, hashes));
  }

  private SentTable(String[] names, long[][] blocks, long digest) {
    this.names = names;
    this.blocks = blocks;
    this.digest = digest;
  }

  private static long[][] blocksOf(long[] hashes) {
    long[][] out = new long[(hashes.length + BLOCK - 1) >>> SHIFT][];
    for (int b = 0; b < out.length; b++) {
      out[b] = Arrays.copyOfRange(hashes, b << SHIFT, Math.min(hashes.length, (b + 1) << SHIFT));
    }
    return out;
  }

  private long hash(int i) {
    return blocks[i >>> SHIFT][i & (BLOCK - 1)];
  }

  private static long digestOf(String[] names, long[] hashes) {
    long d = 0;
    for (int i = 0; i < names.length; i++) d += mix(names[i], hashes[i]);
    return d;
  }

  /**
   * One entry's share of the version: String.hashCode is specified, and the finaliser of
   * SplitMix64 spreads it with the content hash so that entries do not cancel out when summed.
   */
  private static long mix(String name, long hash) {
    long z = hash * 0x9e3779b97f4a7c15L + name.hashCode();
    z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
    z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
    return z ^ (z >>> 31);
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
    if (removed.isEmpty()) {
      SentTable inPlace = updatedInPlace(updates);
      if (inPlace != null) return inPlace;
    }
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
          h[k++] = hash(i);
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

  /**
   * The common push (an endpoint change): every updated name is held already, so the names array
   * and the untouched blocks are shared and only the changed blocks are copied; null when some
   * name is new.
   */
  private SentTable updatedInPlace(SortedMap<String, Long> updates) {
    long[][] b = null;
    boolean[] copied = null;
    long d = digest;
    for (Map.Entry<String, Long> e : updates.entrySet()) {
      int i = Arrays.binarySearch(names, e.getKey());
      if (i < 0) return null;
      if (b == null) {
        b = blocks.clone();
        copied = new boolean[b.length];
      }
      int block = i >>> SHIFT;
      if (!copied[block]) {
        b[block] = b[block].clone();
        copied[block] = true;
      }
      int at = i & (BLOCK - 1);
      d += mix(names[i], e.getValue()) - mix(names[i], b[block][at]);
      b[block][at] = e.getValue();
    }
    return new SentTable(names, b, d);
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
      h[k++] = hash(i);
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
    return i >= 0 && hash(i) == hash;
  }

  /**
   * A version that depends only on what is held (names and content hashes), so two control planes
   * with the same inputs send the same version, and a reconnecting client's version still matches.
   */
  String version() {
    // The size is part of it so that an empty table and a table whose mixes sum to zero differ.
    return Long.toHexString(digest + names.length * 0x632be59bd9b4e019L);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof SentTable other && Arrays.equals(names, other.names)
        && Arrays.deepEquals(blocks, other.blocks);
  }

  @Override
  public int hashCode() {
    return Long.hashCode(digest);
  }

  private String canonical(String name) {
    int i = Arrays.binarySearch(names, name);
    return i >= 0 ? names[i] : NameSet.intern(name);
  }
}
