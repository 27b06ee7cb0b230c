package weft.gateway.route;

import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * What the gateway forwards where: SNI → the cluster its filter chain names → that cluster's healthy
 * endpoints. Immutable; the xDS client builds a new one on every accepted update and the proxy swaps
 * it atomically, so a connection sees exactly one table and an update never touches open connections.
 */
public final class SniTable {
  public static final SniTable EMPTY = new SniTable(Map.of());

  /** One SNI's destination; the counter only spreads new connections (round robin). */
  public static final class Route {
    private final String cluster;
    private final List<InetSocketAddress> endpoints;
    private final AtomicInteger next = new AtomicInteger();

    Route(String cluster, List<InetSocketAddress> endpoints) {
      this.cluster = cluster;
      this.endpoints = List.copyOf(endpoints);
    }

    public String cluster() {
      return cluster;
    }

    public List<InetSocketAddress> endpoints() {
      return endpoints;
    }

    /** All endpoints, starting at the round-robin pick: try them in this order until one connects. */
    public List<InetSocketAddress> pickOrder() {
      if (endpoints.size() <= 1) return endpoints;
      int start = Math.floorMod(next.getAndIncrement(), endpoints.size());
      List<InetSocketAddress> out = new ArrayList<>(endpoints.size());
      for (int i = 0; i < endpoints.size(); i++) out.add(endpoints.get((start + i) % endpoints.size()));
      return out;
    }
  }

  private final Map<String, Route> exact;
  /** Envoy's server_names may be {@code *.suffix}; the longest suffix wins, as in Envoy. */
  private final Map<String, Route> wildcard;

  private SniTable(Map<String, Route> routes) {
    Map<String, Route> e = new TreeMap<>();
    Map<String, Route> w = new TreeMap<>();
    routes.forEach((sni, r) -> (sni.startsWith("*.") ? w : e).put(sni.toLowerCase(java.util.Locale.ROOT), r));
    this.exact = Collections.unmodifiableMap(e);
    this.wildcard = Collections.unmodifiableMap(w);
  }

  /**
   * @param sniToCluster from the listener's filter chains (server name → tcp_proxy cluster)
   * @param endpoints usable endpoints per cluster; a cluster missing here has none
   */
  public static SniTable of(Map<String, String> sniToCluster, Map<String, List<InetSocketAddress>> endpoints) {
    Map<String, Route> routes = new TreeMap<>();
    Map<String, Route> byCluster = new TreeMap<>();
    sniToCluster.forEach((sni, cluster) -> routes.put(sni, byCluster.computeIfAbsent(cluster,
        c -> new Route(c, endpoints.getOrDefault(c, List.of())))));
    return new SniTable(routes);
  }

  /** The route for a client's SNI, or null when no filter chain matches it. */
  public Route route(String sni) {
    if (sni == null) return null;
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
    return best;
  }

  public int size() {
    return exact.size() + wildcard.size();
  }

  /** Server names this table routes, sorted; for /stats and logs. */
  public List<String> serverNames() {
    List<String> out = new ArrayList<>(exact.keySet());
    out.addAll(wildcard.keySet());
    return out;
  }
}
