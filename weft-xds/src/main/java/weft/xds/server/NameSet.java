package weft.xds.server;

import com.google.common.collect.Interner;
import com.google.common.collect.Interners;
import com.google.protobuf.ByteString;
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
  boolean sameInOrder(List<ByteString> listed) {
    return sameInOrder(listed, names);
  }

  /**
   * Whether {@code listed} (a request's names as the wire carries them) and {@code order} hold the
   * same names in the same order. Compared on the bytes: an ACK repeats a thousand names, and
   * decoding each into a String only to find it equal is most of what answering the ACK costs.
   */
  static boolean sameInOrder(List<ByteString> listed, String[] order) {
    if (listed.size() != order.length) return false;
    for (int i = 0; i < order.length; i++) if (!sameText(listed.get(i), order[i])) return false;
    return true;
  }

  /** UTF-8 bytes against a String; ASCII (every Kubernetes and Istio name) is compared byte by char. */
  static boolean sameText(ByteString utf8, String s) {
    int n = utf8.size();
    if (n != s.length()) return n >= s.length() && utf8.toStringUtf8().equals(s);
    for (int i = 0; i < n; i++) {
      byte b = utf8.byteAt(i);
      if (b < 0) return utf8.toStringUtf8().equals(s);
      if (b != s.charAt(i)) return false;
    }
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
