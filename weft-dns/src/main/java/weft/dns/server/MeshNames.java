package weft.dns.server;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.xbill.DNS.Address;
import org.xbill.DNS.Name;
import org.xbill.DNS.ReverseMap;
import org.xbill.DNS.TextParseException;
import weft.dns.nds.NameTable;

/**
 * What one client may resolve: a name table compiled for lookups, with the Kubernetes search-path
 * forms of its Services relative to the client's namespace. Immutable and safe to share; compile once
 * per table (and namespace), not per query: compiling costs time linear in the table.
 *
 * <p>A Kubernetes Service {@code echo.default.svc.cluster.local} (an entry with {@code shortname} and
 * {@code namespace}) also answers as {@code echo.default.svc} and {@code echo.default} from every
 * namespace, and as {@code echo} from a client in {@code default}, as the Kubernetes DNS search path
 * ({@code NS.svc.cluster.local svc.cluster.local cluster.local}) would resolve them. A name that is a
 * key of the table itself always wins over a search form of another entry.
 *
 * <p>The table comes from the control plane, so every entry is checked: a key that is not a DNS name,
 * or an address that is not an IP literal, is skipped and counted in {@link #skipped()} (an address is
 * never looked up).
 */
public final class MeshNames {
  /** The table nobody has sent yet: every lookup misses. */
  public static final MeshNames EMPTY = new MeshNames(Map.of(), Map.of(), Map.of(), List.of());

  private final Map<Name, Host> byName;
  private final Map<Name, Host> wildcards; // keyed by the parent of "*.", e.g. example.com. for *.example.com
  private final Map<Name, List<Name>> reverse; // in-addr.arpa / ip6.arpa name -> host names, sorted
  private final List<String> skipped;

  private MeshNames(Map<Name, Host> byName, Map<Name, Host> wildcards, Map<Name, List<Name>> reverse,
      List<String> skipped) {
    this.byName = byName;
    this.wildcards = wildcards;
    this.reverse = reverse;
    this.skipped = skipped;
  }

  /** A host of the table: the name it is known by, its addresses and its ports. */
  public record Host(Name name, List<Inet4Address> ipv4, List<Inet6Address> ipv6, List<Port> ports) {
    public Host {
      ipv4 = List.copyOf(ipv4);
      ipv6 = List.copyOf(ipv6);
      ports = List.copyOf(ports);
    }
  }

  /** A named port, for SRV answers. */
  public record Port(String name, int number, boolean udp) {}

  /**
   * Compiles {@code table} for a client in namespace {@code clientNamespace} (null or empty: no
   * single-label short names).
   */
  public static MeshNames compile(NameTable table, String clientNamespace) {
    String ns = clientNamespace == null ? "" : clientNamespace.toLowerCase(Locale.ROOT);
    List<String> skipped = new ArrayList<>();
    Map<Name, Host> byName = new HashMap<>();
    Map<Name, Host> wildcards = new HashMap<>();
    Map<Name, Set<Name>> reverse = new HashMap<>();
    Map<Name, Host> searchForms = new HashMap<>();
    // Sorted so that the result does not depend on the map's iteration order.
    for (Map.Entry<String, NameTable.NameInfo> e : new TreeMap<>(table.getTableMap()).entrySet()) {
      String key = e.getKey();
      NameTable.NameInfo info = e.getValue();
      Name name = parseName(key);
      if (name == null) {
        skipped.add("host '" + abbreviate(key) + "': not a DNS name");
        continue;
      }
      Host host = host(name, info, key, skipped);
      if (host == null) {
        continue;
      }
      if (name.isWild()) {
        // "*.example.com" answers every name below example.com that has no entry of its own.
        wildcards.putIfAbsent(new Name(name, 1), host);
        continue;
      }
      byName.put(name, host);
      for (InetAddress a : addresses(host)) {
        reverse.computeIfAbsent(ReverseMap.fromAddress(a), k -> new LinkedHashSet<>()).add(name);
      }
      for (Name form : searchForms(name, info, ns)) {
        searchForms.putIfAbsent(form, host);
      }
    }
    searchForms.forEach(byName::putIfAbsent);
    Map<Name, List<Name>> rev = new HashMap<>();
    reverse.forEach((k, v) -> {
      List<Name> names = new ArrayList<>(v);
      Collections.sort(names);
      rev.put(k, List.copyOf(names));
    });
    return new MeshNames(Map.copyOf(byName), Map.copyOf(wildcards), Map.copyOf(rev), List.copyOf(skipped));
  }

  /** The host {@code name} (absolute, any case) names, or null. */
  public Host lookup(Name name) {
    Name n = canonical(name);
    Host h = byName.get(n);
    if (h != null || wildcards.isEmpty()) {
      return h;
    }
    // The closest enclosing wildcard, as RFC 4592 would pick it.
    for (int labels = n.labels() - 1; labels >= 2; labels--) {
      Host w = wildcards.get(new Name(n, n.labels() - labels));
      if (w != null) {
        return w;
      }
    }
    return null;
  }

  /** The host names of a reverse name ({@code 4.3.2.1.in-addr.arpa.}), empty when none. */
  public List<Name> reverse(Name reverseName) {
    return reverse.getOrDefault(canonical(reverseName), List.of());
  }

  /** The number of names (search forms included) this table answers, wildcards apart. */
  public int size() {
    return byName.size();
  }

  /** What was skipped while compiling, one line per entry (for logs). */
  public List<String> skipped() {
    return skipped;
  }

  private static Host host(Name name, NameTable.NameInfo info, String key, List<String> skipped) {
    List<Inet4Address> v4 = new ArrayList<>();
    List<Inet6Address> v6 = new ArrayList<>();
    for (String ip : info.getIpsList()) {
      InetAddress a = parseIp(ip);
      if (a instanceof Inet4Address a4) {
        if (!v4.contains(a4)) {
          v4.add(a4);
        }
      } else if (a instanceof Inet6Address a6) {
        if (!v6.contains(a6)) {
          v6.add(a6);
        }
      } else {
        skipped.add("host '" + abbreviate(key) + "': address '" + abbreviate(ip) + "' is not an IP literal");
      }
    }
    List<Port> ports = new ArrayList<>();
    for (NameTable.Port p : info.getWeftPortsList()) {
      if (p.getNumber() < 1 || p.getNumber() > 65535 || !validLabel(p.getName())) {
        skipped.add("host '" + abbreviate(key) + "': port '" + abbreviate(p.getName()) + "' " + p.getNumber()
            + " is not a named port in 1..65535");
        continue;
      }
      ports.add(new Port(p.getName().toLowerCase(Locale.ROOT), p.getNumber(),
          "UDP".equalsIgnoreCase(p.getProtocol())));
    }
    if (v4.isEmpty() && v6.isEmpty()) {
      skipped.add("host '" + abbreviate(key) + "': no address");
      return null;
    }
    return new Host(name, v4, v6, ports);
  }

  /**
   * The search-path forms of a Kubernetes Service's name: {@code SHORT.NS.svc}, {@code SHORT.NS}, and
   * {@code SHORT} from its own namespace. Only when the key really is {@code SHORT.NS.svc.DOMAIN};
   * {@code SHORT} is a Service's name or, for a StatefulSet pod, {@code POD.SERVICE}.
   */
  private static List<Name> searchForms(Name name, NameTable.NameInfo info, String clientNs) {
    String shortName = info.getShortname().toLowerCase(Locale.ROOT);
    String ns = info.getNamespace().toLowerCase(Locale.ROOT);
    // A StatefulSet pod's entry has the short name POD.SVC: two labels.
    String[] shortLabels = shortName.split("\\.", -1);
    int k = shortLabels.length;
    if (k > 2 || !validLabel(ns) || name.labels() < k + 4 || !name.getLabelString(k).equals(ns)
        || !name.getLabelString(k + 1).equals("svc")) {
      return List.of();
    }
    for (int i = 0; i < k; i++) {
      if (!validLabel(shortLabels[i]) || !name.getLabelString(i).equals(shortLabels[i])) {
        return List.of();
      }
    }
    List<Name> forms = new ArrayList<>(3);
    addForm(forms, shortName + "." + ns + ".svc.");
    addForm(forms, shortName + "." + ns + ".");
    if (ns.equals(clientNs)) {
      addForm(forms, shortName + ".");
    }
    return forms;
  }

  private static void addForm(List<Name> forms, String text) {
    Name n = parseName(text);
    if (n != null) {
      forms.add(n);
    }
  }

  private static List<InetAddress> addresses(Host h) {
    List<InetAddress> all = new ArrayList<>(h.ipv4());
    all.addAll(h.ipv6());
    return all;
  }

  /** An absolute, lower-case name from a table key, or null when it is not a valid DNS name. */
  static Name parseName(String text) {
    if (text == null || text.isEmpty() || text.length() > 255) {
      return null;
    }
    try {
      String t = text.endsWith(".") ? text : text + ".";
      Name n = Name.fromString(t.toLowerCase(Locale.ROOT));
      return n.equals(Name.root) ? null : n;
    } catch (TextParseException e) {
      return null;
    }
  }

  /** Names from the wire are absolute; dnsjava compares them without regard to case. */
  static Name canonical(Name name) {
    return name.canonicalize();
  }

  /** An IP literal only: never a lookup. */
  private static InetAddress parseIp(String text) {
    if (text == null || text.isEmpty() || text.length() > 45) {
      return null;
    }
    try {
      byte[] v4 = Address.toByteArray(text, Address.IPv4);
      if (v4 != null) {
        return InetAddress.getByAddress(v4);
      }
      byte[] v6 = Address.toByteArray(text, Address.IPv6);
      if (v6 != null) {
        return InetAddress.getByAddress(v6);
      }
    } catch (UnknownHostException e) {
      return null;
    }
    return null;
  }

  private static boolean validLabel(String s) {
    return s != null && !s.isEmpty() && s.length() <= 63 && s.chars().allMatch(c -> c == '-' || c == '_'
        || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'));
  }

  private static String abbreviate(String s) {
    return s.length() > 80 ? s.substring(0, 80) + "..." : s;
  }
}
