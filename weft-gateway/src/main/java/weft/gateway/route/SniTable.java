package weft.gateway.route;

import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * What one listener forwards where: SNI → the clusters its filter chain names (weighted) → their
 * healthy endpoints, plus the chain that matches any name (also a connection without SNI, as in
 * Envoy). Immutable; the xDS client builds a new one on every accepted update and the proxy swaps it
 * atomically, so a connection sees exactly one table and an update never touches open connections.
 */
public final class SniTable {
  public static final SniTable EMPTY = new SniTable(Map.of(), null);

  /** Where one new connection goes: a cluster, and its endpoints in the order to try them. */
  public record Target(String cluster, List<InetSocketAddress> order) {}

  /** One cluster of a route with its endpoints; the counter only spreads new connections (round robin). */
  public static final class Backend {
    private final String cluster;
    private final int weight;
    private final List<InetSocketAddress> endpoints;
    private final AtomicInteger next = new AtomicInteger();

    Backend(ClusterWeight w, List<InetSocketAddress> endpoints) {
      this.cluster = w.cluster();
      this.weight = w.weight();
      this.endpoints = List.copyOf(endpoints);
    }

    public String cluster() {
      return cluster;
    }

    public int weight() {
      return weight;
    }

    public List<InetSocketAddress> endpoints() {
      return endpoints;
    }

    /** All endpoints, starting at the round-robin pick: try them in this order until one connects. */
    List<InetSocketAddress> pickOrder() {
      if (endpoints.size() <= 1) return endpoints;
      int start = Math.floorMod(next.getAndIncrement(), endpoints.size());
      List<InetSocketAddress> out = new ArrayList<>(endpoints.size());
      for (int i = 0; i < endpoints.size(); i++) out.add(endpoints.get((start + i) % endpoints.size()));
      return out;
    }
  }

  /** One filter chain's destination: clusters with weights, picked per new connection in proportion. */
  public static final class Route {
    private final List<Backend> backends;
    private final int totalWeight;
    private final AtomicInteger next = new AtomicInteger();

    Route(List<Backend> backends) {
      this.backends = List.copyOf(backends);
      this.totalWeight = backends.stream().mapToInt(Backend::weight).sum();
    }

    public List<Backend> backends() {
      return backends;
    }

    /** The only cluster, or the first of a weighted split. */
    public String cluster() {
      return backends.get(0).cluster();
    }

    /** The endpoints of {@link #cluster()}. */
    public List<InetSocketAddress> endpoints() {
      return backends.get(0).endpoints();
    }

    /**
     * The cluster for the next connection, by weight: a counter walks the total weight, so over any
     * run of total-weight connections each cluster gets exactly its share (Envoy picks at random; the
     * proportion is the same).
     */
    public Target pick() {
      Backend chosen = backends.get(0);
      if (backends.size() > 1) {
        int ticket = Math.floorMod(next.getAndIncrement(), totalWeight);
        for (Backend b : backends) {
          if (ticket < b.weight()) {
            chosen = b;
            break;
          }
          ticket -= b.weight();
        }
      }
      return new Target(chosen.cluster(), chosen.pickOrder());
    }

    /** All endpoints of the chosen cluster in round-robin order; see {@link #pick()}. */
    public List<InetSocketAddress> pickOrder() {
      return pick().order();
    }
  }

  private final Map<String, Route> exact;
  /** Envoy's server_names may be {@code *.suffix}; the longest suffix wins, as in Envoy. */
  private final Map<String, Route> wildcard;
  /** The chain without server names: any name, and no name at all. Null when there is none. */
  private final Route anyName;

  private SniTable(Map<String, Route> routes, Route anyName) {
    Map<String, Route> e = new TreeMap<>();
    Map<String, Route> w = new TreeMap<>();
    routes.forEach((sni, r) -> (sni.startsWith("*.") ? w : e).put(sni.toLowerCase(java.util.Locale.ROOT), r));
    this.exact = Collections.unmodifiableMap(e);
    this.wildcard = Collections.unmodifiableMap(w);
    this.anyName = anyName;
  }

  /**
   * @param sniToCluster from the listener's filter chains (server name → tcp_proxy cluster)
   * @param endpoints usable endpoints per cluster; a cluster missing here has none
   */
  public static SniTable of(Map<String, String> sniToCluster, Map<String, List<InetSocketAddress>> endpoints) {
    Map<String, List<ClusterWeight>> weighted = new TreeMap<>();
    sniToCluster.forEach((sni, cluster) -> weighted.put(sni, List.of(new ClusterWeight(cluster, 1))));
    return of(weighted, List.of(), endpoints);
  }

  /**
   * @param sniToClusters from the listener's filter chains (server name → the tcp_proxy's clusters)
   * @param anyName the clusters of the chain without server names; empty when there is none
   * @param endpoints usable endpoints per cluster; a cluster missing here has none
   */
  public static SniTable of(Map<String, List<ClusterWeight>> sniToClusters, List<ClusterWeight> anyName,
      Map<String, List<InetSocketAddress>> endpoints) {
    // Chains naming the same clusters share one route, so round robin spans all their names.
    Map<List<ClusterWeight>, Route> shared = new java.util.HashMap<>();
    java.util.function.Function<List<ClusterWeight>, Route> route = cw -> shared.computeIfAbsent(List.copyOf(cw),
        k -> new Route(k.stream().map(w -> new Backend(w, endpoints.getOrDefault(w.cluster(), List.of()))).toList()));
    Map<String, Route> routes = new TreeMap<>();
    sniToClusters.forEach((sni, clusters) -> routes.put(sni, route.apply(clusters)));
    return new SniTable(routes, anyName.isEmpty() ? null : route.apply(anyName));
  }

  /**
   * The route for a client's SNI: its exact name, else the longest wildcard, else the chain that
   * matches any name; null when none matches. A connection without SNI ({@code null}) gets only the
   * chain that matches any name.
   */
  public Route route(String sni) {
    if (sni == null) return anyName;
    String name = sni.toLowerCase(java.util.Locale.ROOT);
    Route r = exact.get(name);
    if (r != null) return r;
    Route best = null;
    int bestLength = -1;
    for (Map.Entry<String, Route> w : wildcard.entrySet()) {
      String suffix = w.getKey().substring(1);
      if (name.endsWith(suffix) && name.length() > suffix.length() && suffix.length() > bestLength) {
        best = w.getValue();
        bestLength = suffix.length();
      }
    }
    return best != null ? best : anyName;
  }

  /** Routed names, counting the chain for any name as one. */
  public int size() {
    return exact.size() + wildcard.size() + (anyName == null ? 0 : 1);
  }

  /** Server names this table routes, sorted ({@code *} for the chain that matches any name); for /stats and logs. */
  public List<String> serverNames() {
    List<String> out = new ArrayList<>(exact.keySet());
    out.addAll(wildcard.keySet());
    if (anyName != null) out.add("*");
    return out;
  }
}
