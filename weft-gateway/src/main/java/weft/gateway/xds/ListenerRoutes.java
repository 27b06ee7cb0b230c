package weft.gateway.xds;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import io.envoyproxy.envoy.config.listener.v3.Filter;
import io.envoyproxy.envoy.config.listener.v3.FilterChain;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Validates the gateway's listener into SNI → cluster: every filter chain must match on server names
 * and hold exactly one tcp_proxy to one cluster. Anything else would need the gateway to terminate
 * TLS or speak HTTP, which it never does, so the whole listener is refused with the reason (as Envoy
 * refuses a listener it cannot build).
 */
final class ListenerRoutes {
  static final String LISTENER_TYPE = "type.googleapis.com/envoy.config.listener.v3.Listener";
  /** Envoy's well-known name of the TCP proxy network filter. */
  static final String TCP_PROXY = "envoy.filters.network.tcp_proxy";
  private static final String TCP_PROXY_TYPE = "type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy";

  private ListenerRoutes() {}

  /** The listener of the response that listens on {@code port}, or null if none does. */
  static Listener find(List<Any> resources, int port) throws InvalidResourceException {
    Listener found = null;
    for (Any a : resources) {
      Listener l = unpack(a, Listener.class, "listener");
      if (l.getAddress().getSocketAddress().getPortValue() != port) continue;
      if (found != null) {
        throw new InvalidResourceException("listeners " + found.getName() + " and " + l.getName()
            + " both listen on port " + port + "; the gateway can follow only one");
      }
      found = l;
    }
    return found;
  }

  /** Server name → cluster, sorted. */
  static Map<String, String> routes(Listener l) throws InvalidResourceException {
    Map<String, String> out = new TreeMap<>();
    for (int i = 0; i < l.getFilterChainsCount(); i++) {
      FilterChain c = l.getFilterChains(i);
      String where = "listener " + l.getName() + " filter_chains[" + i + "]"
          + (c.getFilterChainMatch().getServerNamesCount() > 0
              ? " (server_names " + c.getFilterChainMatch().getServerNamesList() + ")" : "");
      if (c.hasTransportSocket()) {
        throw new InvalidResourceException(where + " has a transport_socket: weft-gateway forwards TLS by SNI "
            + "and never terminates it; use an Envoy gateway for servers with tls mode SIMPLE or MUTUAL");
      }
      if (c.getFilterChainMatch().getServerNamesCount() == 0) {
        throw new InvalidResourceException(where + " matches no server_names: weft-gateway routes only by SNI "
            + "(AUTO_PASSTHROUGH); a catch-all chain is not supported");
      }
      if (c.getFiltersCount() != 1) {
        throw new InvalidResourceException(where + " has " + c.getFiltersCount()
            + " filters; weft-gateway supports exactly one " + TCP_PROXY);
      }
      String cluster = cluster(c.getFilters(0), where);
      for (String sni : c.getFilterChainMatch().getServerNamesList()) {
        String prior = out.putIfAbsent(sni, cluster);
        if (prior != null && !prior.equals(cluster)) {
          throw new InvalidResourceException(where + " matches " + sni + ", which an earlier chain already sends to " + prior);
        }
      }
    }
    return out;
  }

  private static String cluster(Filter f, String where) throws InvalidResourceException {
    boolean typed = f.hasTypedConfig() && f.getTypedConfig().getTypeUrl().equals(TCP_PROXY_TYPE);
    if (!typed) {
      throw new InvalidResourceException(where + " filter " + f.getName() + " ("
          + (f.hasTypedConfig() ? f.getTypedConfig().getTypeUrl() : "no typed_config")
          + ") is not a tcp_proxy: weft-gateway forwards TCP only");
    }
    TcpProxy p = unpack(f.getTypedConfig(), TcpProxy.class, where + " tcp_proxy");
    if (p.getCluster().isEmpty()) {
      throw new InvalidResourceException(where + " tcp_proxy has no cluster"
          + (p.hasWeightedClusters() ? " (weighted_clusters are not supported)" : ""));
    }
    return p.getCluster();
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
