package weft.gateway.route;

import java.util.Collections;
import java.util.Map;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Every listener the gateway was sent, by the port in its address: one {@link SniTable} each.
 * Immutable; replaced whole on every accepted update.
 */
public final class GatewayRoutes {
  public static final GatewayRoutes EMPTY = new GatewayRoutes(Map.of());

  private final Map<Integer, SniTable> byPort;

  private GatewayRoutes(Map<Integer, SniTable> byPort) {
    this.byPort = Collections.unmodifiableMap(new TreeMap<>(byPort));
  }

  public static GatewayRoutes of(Map<Integer, SniTable> byPort) {
    return new GatewayRoutes(byPort);
  }

  /** The table of the listener on {@code port}; empty (every connection refused) when there is none. */
  public SniTable table(int port) {
    return byPort.getOrDefault(port, SniTable.EMPTY);
  }

  /** Listener ports, ascending. */
  public SortedSet<Integer> ports() {
    return Collections.unmodifiableSortedSet(new TreeSet<>(byPort.keySet()));
  }

  /** Routed names over all listeners. */
  public int size() {
    return byPort.values().stream().mapToInt(SniTable::size).sum();
  }
}
