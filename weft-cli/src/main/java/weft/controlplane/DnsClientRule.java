package weft.controlplane;

import java.net.InetAddress;
import java.net.UnknownHostException;
import weft.model.ClusterIds;
import weft.model.Names;

/**
 * One {@code --dns-client CIDR=cluster/namespace}: queries from sources in the block are answered
 * with the view of a proxy of that cluster and namespace.
 */
public record DnsClientRule(byte[] network, int prefix, String text, String clusterId, String namespace) {
  /**
   * Reads {@code CIDR=cluster/namespace}; throws with what is wrong and what to write instead. The
   * address must be a literal: nothing here ever asks DNS.
   */
  public static DnsClientRule parse(String value) {
    String usage = "--dns-client " + Names.quote(value) + ": expected CIDR=CLUSTER_ID/NAMESPACE, for example "
        + "10.1.0.0/16=cluster2/default";
    int eq = value.indexOf('=');
    if (eq < 0) throw new IllegalArgumentException(usage);
    String cidr = value.substring(0, eq).trim();
    String view = value.substring(eq + 1).trim();
    int slash = view.indexOf('/');
    if (slash < 0) throw new IllegalArgumentException(usage);
    String cluster = view.substring(0, slash);
    String namespace = view.substring(slash + 1);
    String problem = ClusterIds.problem(cluster);
    if (problem != null) throw new IllegalArgumentException("--dns-client " + Names.quote(value) + ": " + problem);
    if (!Names.isDnsLabel(namespace)) {
      throw new IllegalArgumentException("--dns-client " + Names.quote(value) + ": namespace " + Names.quote(namespace)
          + " is not a DNS-1123 label (lower-case letters, digits and '-', at most 63)");
    }
    int cut = cidr.indexOf('/');
    byte[] network = literal(cut < 0 ? cidr : cidr.substring(0, cut));
    if (network == null) {
      throw new IllegalArgumentException("--dns-client " + Names.quote(value) + ": " + Names.quote(cidr)
          + " is not an IP address or CIDR block");
    }
    int prefix;
    try {
      prefix = cut < 0 ? network.length * 8 : Integer.parseInt(cidr.substring(cut + 1));
    } catch (NumberFormatException e) {
      prefix = -1;
    }
    if (prefix < 0 || prefix > network.length * 8) {
      throw new IllegalArgumentException("--dns-client " + Names.quote(value) + ": the prefix length of "
          + Names.quote(cidr) + " must be 0 to " + network.length * 8);
    }
    return new DnsClientRule(network, prefix, cidr, cluster, namespace);
  }

  /** True when {@code source} lies in this rule's block. */
  public boolean matches(InetAddress source) {
    byte[] ip = source.getAddress();
    if (ip.length != network.length) return false;
    for (int i = 0; i < prefix; i++) {
      int mask = 0x80 >> (i % 8);
      if ((network[i / 8] & mask) != (ip[i / 8] & mask)) return false;
    }
    return true;
  }

  private static byte[] literal(String s) {
    if (s.isEmpty() || s.length() > 45 || !(s.matches("[0-9.]+") || s.matches("[0-9A-Fa-f:.]+") && s.contains(":"))) {
      return null;
    }
    try {
      return InetAddress.getByName(s).getAddress();
    } catch (UnknownHostException e) {
      return null;
    }
  }

  @Override
  public String toString() {
    return text + "=" + clusterId + "/" + namespace;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof DnsClientRule r && r.toString().equals(toString());
  }

  @Override
  public int hashCode() {
    return toString().hashCode();
  }
}
