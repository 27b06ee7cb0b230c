package weft.xds.view;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;
import java.util.function.Supplier;
import weft.registry.ChangeEvent;
import weft.registry.MeshSnapshot;
import weft.registry.ServiceView;

/**
 * Generated parts (a cluster set, an assignment, a listener set…) shared by every proxy whose key
 * is equal, so that 1,000 proxies with one view cost one generation and one serialization. Keys
 * are records of exactly what a part depends on beyond the snapshot; record equality, never a
 * hash, tells them apart.
 *
 * <p>Two kinds of bucket, by what a part reads of the snapshot:
 * <ul>
 *   <li>per host: parts of one service that read its endpoints (clusters, assignments); dropped
 *       when the change event names the host;
 *   <li>routing: parts that read service definitions and config but no endpoints (listeners,
 *       routes); dropped when any service definition changes;
 *   <li>snapshot: whole responses that read many hosts' endpoints (all of a full-mesh sidecar's
 *       assignments, all its outbound clusters); they live with one snapshot and are never carried
 *       to the next. Their values share the per-host parts they are made of.
 * </ul>
 * Any config change or a full change drops everything (see {@link #next}). A part whose
 * generation throws is never stored: every caller waiting for it gets the exception, and the
 * next caller tries again.
 *
 * <p>Thread-safe: many push threads read and fill one cache; one generation per key at a time
 * (later callers wait for it). A build runs on its caller's thread and must not ask for its own
 * key, which would wait for itself.
 */
public final class PartCache {
  /** Per-host bucket bound: variants come from proxy attributes (networks, localities), a handful in practice. */
  static final int MAX_PER_HOST = 512;
  /** Routing bucket bound: distinct proxy keys times route names; a client must not grow it forever. */
  static final int MAX_ROUTING = 16_384;
  /**
   * Bounds on the serialized bytes a bucket holds. Keys carry values a client chooses (its
   * namespace, DNS domain, label values), each of which can add a whole listener set; past the
   * bound the bucket starts over, so memory stays bounded and only regeneration costs.
   */
  static final long MAX_HOST_BYTES = 8L << 20;
  static final long MAX_ROUTING_BYTES = 128L << 20;
  /**
   * Snapshot bucket bound: one whole response per distinct proxy key and name list. Its values
   * reference parts held elsewhere, so it is bounded by count (a map entry each, not the bytes).
   */
  static final int MAX_SNAPSHOT = 256;

  /** One generated part and the drop notes its generation recorded, replayed into each view that uses it. */
  public record Part<T>(T value, List<Drop> drops) {
    public Part {
      drops = List.copyOf(drops);
    }

    public void replay(ProxyView view) {
      for (Drop d : drops) view.drop(d.subject(), d.reason());
    }
  }

  public record Drop(String subject, String reason) {}

  /**
   * What a host bucket was generated from, compared by identity: a bucket reused with another
   * service view or config (a cache handed a different snapshot) is started afresh.
   */
  private record Basis(ServiceView service, Object config, Object meshConfig, Object gateways) {
    boolean same(Basis o) {
      return service == o.service && config == o.config && meshConfig == o.meshConfig && gateways == o.gateways;
    }
  }

  private static final class Bucket {
    final Basis basis;
    final Map<Object, FutureTask<Part<?>>> parts = new ConcurrentHashMap<>();
    /** Serialized bytes of the parts held, roughly (a cleared bucket restarts the count). */
    final java.util.concurrent.atomic.AtomicLong bytes = new java.util.concurrent.atomic.AtomicLong();

    Bucket(Basis basis) {
      this.basis = basis;
    }
  }

  private final boolean enabled;
  private final Map<String, Bucket> byHost;
  private final Bucket routing;
  private final Bucket snapshotWide = new Bucket(null);

  public PartCache() {
    this(true, new ConcurrentHashMap<>(), new Bucket(null));
  }

  private PartCache(boolean enabled, Map<String, Bucket> byHost, Bucket routing) {
    this.enabled = enabled;
    this.byHost = byHost;
    this.routing = routing;
  }

  /** A cache that stores nothing: every part is generated afresh. */
  public static PartCache disabled() {
    return new PartCache(false, Map.of(), new Bucket(null));
  }

  public boolean enabled() {
    return enabled;
  }

  /**
   * The cache for the next snapshot. It shares this one's host buckets: each bucket is checked
   * against the service view and config it was made from whenever it is used ({@link Basis}), so a
   * host {@code change} touched starts a new bucket on first use. Only the touched hosts' buckets
   * are let go here (their hosts may be gone): the cost of an update follows the hosts it touched,
   * not the size of the mesh.
   */
  PartCache next(ChangeEvent change) {
    if (!enabled) return this;
    if (change.full() || !change.configs().isEmpty()) return new PartCache();
    for (String host : change.endpointHosts()) byHost.remove(host);
    for (String host : change.serviceHosts()) byHost.remove(host);
    return new PartCache(true, byHost, change.serviceHosts().isEmpty() ? routing : new Bucket(null));
  }

  /** The part of one service's host for {@code key}, generated by {@code build} on a miss. */
  public <T> Part<T> forHost(MeshSnapshot snapshot, ServiceView service, Object key, Supplier<Part<T>> build) {
    if (!enabled) return build.get();
    String host = service.service().hostname();
    Basis basis = new Basis(service, snapshot.config(), snapshot.meshConfig(), snapshot.gateways());
    Bucket bucket = byHost.get(host);
    if (bucket == null || !bucket.basis.same(basis)) {
      // A snapshot still being pushed and a newer one may take turns here: each replaces a bucket
      // made from the other's view, which costs a regeneration, never a wrong part.
      bucket = byHost.compute(host, (h, old) -> old != null && old.basis.same(basis) ? old : new Bucket(basis));
    }
    return get(bucket, MAX_PER_HOST, MAX_HOST_BYTES, key, build);
  }

  /** A part that reads service definitions and config but no endpoints. */
  public <T> Part<T> forRouting(Object key, Supplier<Part<T>> build) {
    if (!enabled) return build.get();
    return get(routing, MAX_ROUTING, MAX_ROUTING_BYTES, key, build);
  }

  /**
   * A whole response of this cache's snapshot, made of parts of many hosts; held only while this
   * cache is the snapshot's (a later snapshot starts without it).
   */
  public <T> Part<T> forSnapshot(Object key, Supplier<Part<T>> build) {
    if (!enabled) return build.get();
    return get(snapshotWide, MAX_SNAPSHOT, Long.MAX_VALUE, key, build);
  }

  @SuppressWarnings("unchecked")
  private static <T> Part<T> get(Bucket bucket, int max, long maxBytes, Object key, Supplier<Part<T>> build) {
    FutureTask<Part<?>> task = bucket.parts.get(key);
    if (task == null) {
      // Past the bound the bucket starts over: only regeneration costs, never correctness.
      if (bucket.parts.size() >= max || bucket.bytes.get() >= maxBytes) {
        bucket.parts.clear();
        bucket.bytes.set(0);
      }
      FutureTask<Part<?>> mine = new FutureTask<>(build::get);
      task = bucket.parts.putIfAbsent(key, mine);
      if (task == null) {
        task = mine;
        mine.run();
        if (!mine.isCancelled()) {
          try {
            // The key counts too: its strings may come from a client (a DNS domain, label values).
            bucket.bytes.addAndGet(weight(mine.get().value()) + 2L * key.toString().length());
          } catch (ExecutionException | InterruptedException e) {
            // handled below, where every caller sees the failure
          }
        }
      }
    }
    try {
      return (Part<T>) task.get();
    } catch (ExecutionException e) {
      // A failure is never cached: the next push generates again.
      bucket.parts.remove(key, task);
      Throwable cause = e.getCause();
      if (cause instanceof RuntimeException r) throw r;
      if (cause instanceof Error err) throw err;
      throw new IllegalStateException(cause);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while another thread generated the same part", e);
    }
  }

  /** The serialized size of a part's resources (a Generated, or a map of them); 64 for anything else. */
  private static long weight(Object value) {
    if (value instanceof weft.xds.Generated g) return g.resource().getSerializedSize();
    if (value instanceof Map<?, ?> m) {
      long n = 0;
      for (Object v : m.values()) n += weight(v);
      return n;
    }
    return 64;
  }

  /** How many parts are held (tests, diagnostics). */
  public int size() {
    int n = routing.parts.size() + snapshotWide.parts.size();
    for (Bucket b : byHost.values()) n += b.parts.size();
    return n;
  }
}
