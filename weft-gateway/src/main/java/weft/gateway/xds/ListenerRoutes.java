package weft.gateway.xds;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import io.envoyproxy.envoy.config.listener.v3.Filter;
import io.envoyproxy.envoy.config.listener.v3.FilterChain;
import io.envoyproxy.envoy.config.listener.v3.FilterChainMatch;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import weft.gateway.route.ClusterWeight;

/**
 * Validates the gateway's listeners into, per port, SNI → clusters: every filter chain may match on
 * server names only (none: any name) and must hold exactly one tcp_proxy to one cluster or to
 * weighted clusters. Anything else would need the gateway to terminate TLS or speak HTTP, which it
 * never does, so the whole update is refused with the reason (as Envoy refuses a listener it cannot
 * build).
 */
final class ListenerRoutes {
  static final String LISTENER_TYPE = "type.googleapis.com/envoy.config.listener.v3.Listener";
  /** Envoy's well-known name of the TCP proxy network filter. */
  static final String TCP_PROXY = "envoy.filters.network.tcp_proxy";
  private static final String TCP_PROXY_TYPE = "type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy";

  private ListenerRoutes() {}

  /** One listener's chains: server name → clusters, and the clusters of the chain for any name (empty: none). */
  record Chains(Map<String, List<ClusterWeight>> byName, List<ClusterWeight> anyName) {
    Chains {
      byName = java.util.Collections.unmodifiableMap(new TreeMap<>(byName));
      anyName = List.copyOf(anyName);
    }

    Set<String> clusters() {
      Set<String> out = new TreeSet<>();
      byName.values().forEach(l -> l.forEach(w -> out.add(w.cluster())));
      anyName.forEach(w -> out.add(w.cluster()));
      return out;
    }
  }

  /** Every listener of the response by its port; two on one port are refused (the gateway binds each port once). */
  static Map<Integer, Chains> all(List<Any> resources) throws InvalidResourceException {
    Map<Integer, Chains> out = new TreeMap<>();
    Map<Integer, String> names = new TreeMap<>();
    for (Any a : resources) {
      Listener l = unpack(a, Listener.class, "listener");
      if (!l.getAddress().hasSocketAddress() || l.getAddress().getSocketAddress().getPortValue() == 0) {
        throw new InvalidResourceException("listener " + l.getName() + " has no socket_address with a port_value");
      }
      int port = l.getAddress().getSocketAddress().getPortValue();
      String prior = names.putIfAbsent(port, l.getName());
      if (prior != null) {
        throw new InvalidResourceException("listeners " + prior + " and " + l.getName() + " both listen on port "
            + port + "; the gateway listens on each port once");
      }
      out.put(port, routes(l));
    }
    return out;
  }

  /** One listener's chains, checked. */
  static Chains routes(Listener l) throws InvalidResourceException {
    Map<String, List<ClusterWeight>> byName = new TreeMap<>();
    List<ClusterWeight> anyName = null;
    for (int i = 0; i < l.getFilterChainsCount(); i++) {
      FilterChain c = l.getFilterChains(i);
      FilterChainMatch match = c.getFilterChainMatch();
      String where = "listener " + l.getName() + " filter_chains[" + i + "]"
          + (match.getServerNamesCount() > 0 ? " (server_names " + match.getServerNamesList() + ")" : "");
      if (c.hasTransportSocket()) {
        throw new InvalidResourceException(where + " has a transport_socket: weft-gateway forwards TLS by SNI "
            + "and never terminates it; use an Envoy gateway for servers with tls mode SIMPLE or MUTUAL");
      }
      if (!match.toBuilder().clearServerNames().build().equals(FilterChainMatch.getDefaultInstance())) {
        throw new InvalidResourceException(where + " matches on more than server_names (" + match.toBuilder()
            .clearServerNames().build().toString().trim().replace('\n', ' ') + "); weft-gateway routes by SNI only");
      }
      if (c.getFiltersCount() != 1) {
        throw new InvalidResourceException(where + " has " + c.getFiltersCount()
            + " filters; weft-gateway supports exactly one " + TCP_PROXY);
      }
      List<ClusterWeight> clusters = clusters(c.getFilters(0), where);
      if (match.getServerNamesCount() == 0) {
        if (anyName != null) {
          throw new InvalidResourceException(where + " matches any server name, as an earlier chain already does");
        }
        anyName = clusters;
        continue;
      }
      for (String sni : match.getServerNamesList()) {
        List<ClusterWeight> prior = byName.putIfAbsent(sni.toLowerCase(java.util.Locale.ROOT), clusters);
        if (prior != null) {
          throw new InvalidResourceException(where + " matches " + sni + ", which an earlier chain already matches");
        }
      }
    }
    return new Chains(byName, anyName == null ? List.of() : anyName);
  }

  private static List<ClusterWeight> clusters(Filter f, String where) throws InvalidResourceException {
    boolean typed = f.hasTypedConfig() && f.getTypedConfig().getTypeUrl().equals(TCP_PROXY_TYPE);
    if (!typed) {
      throw new InvalidResourceException(where + " filter " + f.getName() + " ("
          + (f.hasTypedConfig() ? f.getTypedConfig().getTypeUrl() : "no typed_config")
          + ") is not a tcp_proxy: weft-gateway forwards TCP only");
    }
    TcpProxy p = unpack(f.getTypedConfig(), TcpProxy.class, where + " tcp_proxy");
    if (!p.getCluster().isEmpty()) return List.of(new ClusterWeight(p.getCluster(), 1));
    if (!p.hasWeightedClusters() || p.getWeightedClusters().getClustersCount() == 0) {
      throw new InvalidResourceException(where + " tcp_proxy names neither a cluster nor weighted_clusters");
    }
    List<ClusterWeight> out = new ArrayList<>();
    Set<String> seen = new TreeSet<>();
    long total = 0;
    for (TcpProxy.WeightedCluster.ClusterWeight w : p.getWeightedClusters().getClustersList()) {
      if (w.getName().isEmpty()) throw new InvalidResourceException(where + " weighted_clusters has a cluster without a name");
      if (!seen.add(w.getName())) {
        throw new InvalidResourceException(where + " weighted_clusters names " + w.getName() + " twice");
      }
      // Envoy skips a cluster of weight 0; it never gets a connection.
      if (w.getWeight() > 0) out.add(new ClusterWeight(w.getName(), w.getWeight()));
      total += w.getWeight();
    }
    if (total > Integer.MAX_VALUE) {
      throw new InvalidResourceException(where + " weighted_clusters weigh " + total + " in all; at most "
          + Integer.MAX_VALUE);
    }
    if (out.isEmpty()) throw new InvalidResourceException(where + " weighted_clusters has no cluster with a weight above 0");
    return out;
  }

  static <T extends com.google.protobuf.Message> T unpack(Any a, Class<T> type, String what)
      throws InvalidResourceException {
    try {
      return a.unpack(type);
    } catch (InvalidProtocolBufferException e) {
      throw new InvalidResourceException(what + " of type " + a.getTypeUrl() + " cannot be read as "
          + type.getSimpleName() + ": " + e.getMessage());
    }
  }
}
