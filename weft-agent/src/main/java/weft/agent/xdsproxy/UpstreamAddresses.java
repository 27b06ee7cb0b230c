package weft.agent.xdsproxy;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The control planes the proxy may use: {@code host:port} entries (from a repeatable flag), each host
 * standing for every address it resolves to, so one DNS name with several A records (or several
 * {@code /etc/hosts} lines) is as good as a list. Resolved afresh at every connection attempt, so a
 * name that moves is followed.
 */
record UpstreamAddresses(List<String> entries) {
  /** Looks a host up; {@link InetAddress#getAllByName} in production. */
  @FunctionalInterface
  interface Resolver {
    InetAddress[] resolve(String host) throws UnknownHostException;
  }

  UpstreamAddresses {
    if (entries.isEmpty()) throw new IllegalArgumentException("the xDS proxy needs at least one --xds-address");
    for (String e : entries) port(e);
    entries = List.copyOf(entries);
  }

  /**
   * Every address of every entry, in the order given, without repeats.
   *
   * @throws UnknownHostException when no entry resolves (names that fail are skipped when others resolve)
   */
  List<InetSocketAddress> resolve(Resolver resolver) throws UnknownHostException {
    Set<InetSocketAddress> out = new LinkedHashSet<>();
    UnknownHostException last = null;
    for (String e : entries) {
      try {
        for (InetAddress a : resolver.resolve(host(e))) out.add(new InetSocketAddress(a, port(e)));
      } catch (UnknownHostException u) {
        last = u;
      }
    }
    if (out.isEmpty()) {
      throw last != null ? last : new UnknownHostException("no address for " + entries);
    }
    return new ArrayList<>(out);
  }

  static String host(String entry) {
    if (entry.startsWith("[")) return entry.substring(1, entry.indexOf(']'));
    return entry.substring(0, entry.lastIndexOf(':'));
  }

  static int port(String entry) {
    int colon = entry.lastIndexOf(':');
    if (colon <= 0 || entry.startsWith("[") && entry.indexOf(']') != colon - 1) {
      throw new IllegalArgumentException("xDS address '" + entry + "' must be HOST:PORT");
    }
    try {
      int port = Integer.parseInt(entry.substring(colon + 1));
      if (port < 1 || port > 65535) throw new NumberFormatException();
      return port;
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("xDS address '" + entry + "' must end in a port 1-65535");
    }
  }
}
