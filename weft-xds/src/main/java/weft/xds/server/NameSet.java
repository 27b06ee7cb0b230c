package weft.xds.server;

import com.google.common.collect.Interner;
import com.google.common.collect.Interners;
import java.util.Arrays;
import java.util.Collection;
import java.util.Collections;
import java.util.List;

/**
 * A sorted, immutable set of resource names, as a plain array. Names are interned across streams:
 * a thousand sidecars watching the same clusters hold one copy of each name between them, and a
 * stream's cost is one reference per name. Immutable so that the status summary a stream publishes
 * can share it without copying.
 */
final class NameSet {
  /** Weak: a name no stream holds any more is collected. */
  private static final Interner<String> NAMES = Interners.newWeakInterner();
  static final NameSet EMPTY = new NameSet(new String[0], 0);

  private final String[] names;
  /** Total characters, for the per-stream bound on what a client may make us hold. */
  private final long chars;

  private NameSet(String[] names, long chars) {
    this.names = names;
    this.chars = chars;
  }

  static String intern(String name) {
    return NAMES.intern(name);
  }

  static NameSet of(Collection<String> names) {
    return EMPTY.plus(names);
  }

  int size() {
    return names.length;
  }

  boolean isEmpty() {
    return names.length == 0;
  }

  long chars() {
    return chars;
  }

  boolean contains(String name) {
    return Arrays.binarySearch(names, name) >= 0;
  }

  /** Whether {@code listed} holds exactly this set's names in this set's (sorted) order. */
  boolean sameInOrder(List<String> listed) {
    if (listed.size() != names.length) return false;
    for (int i = 0; i < names.length; i++) if (!names[i].equals(listed.get(i))) return false;
    return true;
  }

  /** Whether {@code listed} and {@code order} hold the same names in the same order. */
  static boolean sameInOrder(List<String> listed, String[] order) {
    if (listed.size() != order.length) return false;
    for (int i = 0; i < order.length; i++) if (!order[i].equals(listed.get(i))) return false;
    return true;
  }

  /** The names in order, as a read-only view of this set's array. */
  List<String> asList() {
    return Collections.unmodifiableList(Arrays.asList(names));
  }

  /** This set with {@code added}; this same instance when nothing is new. */
  NameSet plus(Collection<String> added) {
    String[] fresh = added.stream().filter(n -> !contains(n)).distinct().sorted().toArray(String[]::new);
    if (fresh.length == 0) return this;
    String[] out = new String[names.length + fresh.length];
    int i = 0;
    int j = 0;
    int k = 0;
    long total = chars;
    while (i < names.length || j < fresh.length) {
      if (j == fresh.length || (i < names.length && names[i].compareTo(fresh[j]) < 0)) {
        out[k++] = names[i++];
      } else {
        total += fresh[j].length();
        out[k++] = intern(fresh[j++]);
      }
    }
    return new NameSet(out, total);
  }

  /** This set without {@code removed}; this same instance when none of them was in it. */
  NameSet minus(Collection<String> removed) {
    if (removed.isEmpty()) return this;
    java.util.Set<String> gone = removed instanceof java.util.Set<String> s ? s : new java.util.HashSet<>(removed);
    String[] out = Arrays.stream(names).filter(n -> !gone.contains(n)).toArray(String[]::new);
    if (out.length == names.length) return this;
    long total = 0;
    for (String n : out) total += n.length();
    return new NameSet(out, total);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof NameSet other && Arrays.equals(names, other.names);
  }

  @Override
  public int hashCode() {
    return Arrays.hashCode(names);
  }

  @Override
  public String toString() {
    return Arrays.toString(names);
  }
}
