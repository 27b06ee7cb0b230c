package weft.registry;

import java.util.AbstractMap;
import java.util.AbstractSet;
import java.util.Comparator;
import java.util.Iterator;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Objects;
import java.util.Set;
import java.util.SortedMap;

/**
 * An immutable sorted map whose updates copy only the path from the root to the changed key and
 * share every other node with the map they came from. Each snapshot keeps its own map, and an
 * update of one key costs O(log n) new nodes instead of a copy of the whole map.
 *
 * <p>An AVL tree without parent links (so that nodes can be shared); each node also counts its
 * subtree, which gives range views their size in O(log n). No library on our classpath offers
 * one (the JDK's maps are mutable or copied whole; protobuf and Guava's immutable maps copy).
 * Keys and values are never null.
 */
final class PersistentSortedMap<K, V> {
  private static final PersistentSortedMap<?, ?> NATURAL = new PersistentSortedMap<>(null, null);

  /** Null for the keys' natural order, as {@link SortedMap#comparator()} reports it. */
  private final Comparator<? super K> declared;
  private final Comparator<? super K> order;
  private final Node<K, V> root;
  private SortedMap<K, V> view;

  @SuppressWarnings("unchecked")
  private PersistentSortedMap(Comparator<? super K> declared, Node<K, V> root) {
    this.declared = declared;
    this.order = declared != null ? declared : (Comparator<? super K>) Comparator.naturalOrder();
    this.root = root;
  }

  /** The empty map in the keys' natural order. */
  @SuppressWarnings("unchecked")
  static <K extends Comparable<? super K>, V> PersistentSortedMap<K, V> empty() {
    return (PersistentSortedMap<K, V>) NATURAL;
  }

  int size() {
    return size(root);
  }

  @SuppressWarnings("unchecked")
  V get(Object key) {
    Node<K, V> n = find((K) key);
    return n == null ? null : n.value;
  }

  /** This map with {@code key} mapped to {@code value}; this map itself when it already was. */
  PersistentSortedMap<K, V> with(K key, V value) {
    Objects.requireNonNull(key, "key");
    Objects.requireNonNull(value, "value");
    Node<K, V> next = put(root, key, value);
    return next == root ? this : new PersistentSortedMap<>(declared, next);
  }

  /** This map without {@code key}; this map itself when it had no such key. */
  PersistentSortedMap<K, V> without(K key) {
    Node<K, V> next = remove(root, key);
    return next == root ? this : new PersistentSortedMap<>(declared, next);
  }

  /**
   * A read-only {@link SortedMap} over this map, iterating in key order. Reads cost O(log n);
   * {@code size()} of the whole map is O(1). Made once and kept (a benign race: any copy is equal).
   */
  SortedMap<K, V> asSortedMap() {
    SortedMap<K, V> v = view;
    if (v == null) view = v = new View(null, false, null, false);
    return v;
  }

  /** The height of the tree, for tests that check it stays balanced. */
  int height() {
    return height(root);
  }

  private Node<K, V> find(K key) {
    Node<K, V> n = root;
    while (n != null) {
      int c = order.compare(key, n.key);
      if (c == 0) return n;
      n = c < 0 ? n.left : n.right;
    }
    return null;
  }

  private Node<K, V> put(Node<K, V> n, K key, V value) {
    if (n == null) return new Node<>(key, value, null, null);
    int c = order.compare(key, n.key);
    if (c == 0) return n.value.equals(value) ? n : new Node<>(n.key, value, n.left, n.right);
    if (c < 0) {
      Node<K, V> left = put(n.left, key, value);
      return left == n.left ? n : balance(n.key, n.value, left, n.right);
    }
    Node<K, V> right = put(n.right, key, value);
    return right == n.right ? n : balance(n.key, n.value, n.left, right);
  }

  private Node<K, V> remove(Node<K, V> n, K key) {
    if (n == null) return null;
    int c = order.compare(key, n.key);
    if (c < 0) {
      Node<K, V> left = remove(n.left, key);
      return left == n.left ? n : balance(n.key, n.value, left, n.right);
    }
    if (c > 0) {
      Node<K, V> right = remove(n.right, key);
      return right == n.right ? n : balance(n.key, n.value, n.left, right);
    }
    if (n.left == null) return n.right;
    if (n.right == null) return n.left;
    Node<K, V> successor = n.right;
    while (successor.left != null) successor = successor.left;
    return balance(successor.key, successor.value, n.left, removeFirst(n.right));
  }

  private Node<K, V> removeFirst(Node<K, V> n) {
    if (n.left == null) return n.right;
    return balance(n.key, n.value, removeFirst(n.left), n.right);
  }

  /** A node over two subtrees whose heights differ by at most two, rotated back into AVL shape. */
  private static <K, V> Node<K, V> balance(K key, V value, Node<K, V> left, Node<K, V> right) {
    int hl = height(left);
    int hr = height(right);
    if (hl > hr + 1) {
      if (height(left.left) >= height(left.right)) {
        return new Node<>(left.key, left.value, left.left, new Node<>(key, value, left.right, right));
      }
      Node<K, V> lr = left.right;
      return new Node<>(lr.key, lr.value, new Node<>(left.key, left.value, left.left, lr.left),
          new Node<>(key, value, lr.right, right));
    }
    if (hr > hl + 1) {
      if (height(right.right) >= height(right.left)) {
        return new Node<>(right.key, right.value, new Node<>(key, value, left, right.left), right.right);
      }
      Node<K, V> rl = right.left;
      return new Node<>(rl.key, rl.value, new Node<>(key, value, left, rl.left),
          new Node<>(right.key, right.value, rl.right, right.right));
    }
    return new Node<>(key, value, left, right);
  }

  private static int height(Node<?, ?> n) {
    return n == null ? 0 : n.height;
  }

  private static int size(Node<?, ?> n) {
    return n == null ? 0 : n.size;
  }

  /** How many keys sort before {@code key}. */
  private int countBelow(K key) {
    int count = 0;
    Node<K, V> n = root;
    while (n != null) {
      if (order.compare(key, n.key) <= 0) {
        n = n.left;
      } else {
        count += size(n.left) + 1;
        n = n.right;
      }
    }
    return count;
  }

  /** A tree node; it is its own map entry, so iteration allocates no entries. */
  private static final class Node<K, V> implements Map.Entry<K, V> {
    final K key;
    final V value;
    final Node<K, V> left;
    final Node<K, V> right;
    final int height;
    final int size;

    Node(K key, V value, Node<K, V> left, Node<K, V> right) {
      this.key = key;
      this.value = value;
      this.left = left;
      this.right = right;
      this.height = Math.max(PersistentSortedMap.height(left), PersistentSortedMap.height(right)) + 1;
      this.size = PersistentSortedMap.size(left) + PersistentSortedMap.size(right) + 1;
    }

    @Override
    public K getKey() {
      return key;
    }

    @Override
    public V getValue() {
      return value;
    }

    @Override
    public V setValue(V v) {
      throw new UnsupportedOperationException("a snapshot's map is read-only");
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof Map.Entry<?, ?> e && key.equals(e.getKey()) && value.equals(e.getValue());
    }

    @Override
    public int hashCode() {
      return key.hashCode() ^ value.hashCode();
    }

    @Override
    public String toString() {
      return key + "=" + value;
    }
  }

  /** The keys in [lo, hi) of this map (either bound absent means open). */
  private final class View extends AbstractMap<K, V> implements SortedMap<K, V> {
    private final K lo;
    private final boolean hasLo;
    private final K hi;
    private final boolean hasHi;

    View(K lo, boolean hasLo, K hi, boolean hasHi) {
      this.lo = lo;
      this.hasLo = hasLo;
      this.hi = hi;
      this.hasHi = hasHi;
    }

    private boolean aboveLo(K key) {
      return !hasLo || order.compare(key, lo) >= 0;
    }

    private boolean belowHi(K key) {
      return !hasHi || order.compare(key, hi) < 0;
    }

    @SuppressWarnings("unchecked")
    private boolean inRange(Object key) {
      return key != null && aboveLo((K) key) && belowHi((K) key);
    }

    @Override
    public V get(Object key) {
      return inRange(key) ? PersistentSortedMap.this.get(key) : null;
    }

    @Override
    public boolean containsKey(Object key) {
      return get(key) != null;
    }

    @Override
    public int size() {
      int below = hasHi ? countBelow(hi) : PersistentSortedMap.this.size();
      return Math.max(0, below - (hasLo ? countBelow(lo) : 0));
    }

    @Override
    public boolean isEmpty() {
      return !entrySet().iterator().hasNext();
    }

    @Override
    public Set<Map.Entry<K, V>> entrySet() {
      return new AbstractSet<>() {
        @Override
        public Iterator<Map.Entry<K, V>> iterator() {
          return new InOrder();
        }

        @Override
        public int size() {
          return View.this.size();
        }
      };
    }

    @Override
    public Comparator<? super K> comparator() {
      return declared;
    }

    @Override
    public SortedMap<K, V> subMap(K fromKey, K toKey) {
      if (order.compare(fromKey, toKey) > 0) throw new IllegalArgumentException("fromKey > toKey");
      return new View(within(fromKey), true, within(toKey), true);
    }

    @Override
    public SortedMap<K, V> headMap(K toKey) {
      return new View(lo, hasLo, within(toKey), true);
    }

    @Override
    public SortedMap<K, V> tailMap(K fromKey) {
      return new View(within(fromKey), true, hi, hasHi);
    }

    /** A new bound must lie within this view's range (its upper end included), as SortedMap requires. */
    private K within(K key) {
      Objects.requireNonNull(key, "key");
      if (!aboveLo(key) || (hasHi && order.compare(key, hi) > 0)) {
        throw new IllegalArgumentException("key out of range: " + key);
      }
      return key;
    }

    @Override
    public K firstKey() {
      Iterator<Map.Entry<K, V>> it = new InOrder();
      if (!it.hasNext()) throw new NoSuchElementException();
      return it.next().getKey();
    }

    @Override
    public K lastKey() {
      Node<K, V> best = null;
      Node<K, V> n = root;
      while (n != null) {
        if (belowHi(n.key)) {
          best = n;
          n = n.right;
        } else {
          n = n.left;
        }
      }
      if (best == null || !aboveLo(best.key)) throw new NoSuchElementException();
      return best.key;
    }

    /**
     * In-order walk from the first key at or above lo, stopping at hi. The stack holds the nodes
     * still to visit on the path from the root (at most one per level, so the tree's height bounds
     * it): an array, since every proxy view iterates the service map.
     */
    private final class InOrder implements Iterator<Map.Entry<K, V>> {
      @SuppressWarnings("unchecked")
      private final Node<K, V>[] path = (Node<K, V>[]) new Node<?, ?>[height(root)];
      private int depth;
      private Node<K, V> next;

      InOrder() {
        Node<K, V> n = root;
        while (n != null) {
          if (aboveLo(n.key)) {
            path[depth++] = n;
            n = n.left;
          } else {
            n = n.right;
          }
        }
        advance();
      }

      private void advance() {
        if (depth == 0) {
          next = null;
          return;
        }
        Node<K, V> n = path[--depth];
        for (Node<K, V> r = n.right; r != null; r = r.left) path[depth++] = r;
        next = belowHi(n.key) ? n : null;
        if (next == null) depth = 0;
      }

      @Override
      public boolean hasNext() {
        return next != null;
      }

      @Override
      public Map.Entry<K, V> next() {
        if (next == null) throw new NoSuchElementException();
        Node<K, V> out = next;
        advance();
        return out;
      }
    }
  }
}
