package weft.xds;

/** Istio's cluster names: {@code outbound|PORT|SUBSET|HOST} and {@code inbound|PORT||}. */
public record ClusterName(String direction, int port, String subset, String host) {
  public static ClusterName outbound(int port, String subset, String host) {
    return new ClusterName("outbound", port, subset == null ? "" : subset, host);
  }

  /** Parses a name; returns null for names that are not Istio cluster names. */
  public static ClusterName parse(String name) {
    // On the push hot path for every watched name: plain index arithmetic, no regex.
    int a = name.indexOf('|');
    int b = a < 0 ? -1 : name.indexOf('|', a + 1);
    int c = b < 0 ? -1 : name.indexOf('|', b + 1);
    if (c < 0 || name.indexOf('|', c + 1) >= 0) return null;
    try {
      return new ClusterName(name.substring(0, a), Integer.parseInt(name, a + 1, b, 10), name.substring(b + 1, c),
          name.substring(c + 1));
    } catch (NumberFormatException e) {
      return null;
    }
  }

  /** The host part of a cluster name without building the record, or null. */
  public static String hostOf(String name) {
    int c = name.lastIndexOf('|');
    return c < 0 ? null : name.substring(c + 1);
  }

  /** Istio's SNI for this cluster: {@code outbound_.PORT_.SUBSET_.HOST}, what Envoy sidecars send. */
  public String sni() {
    return direction + "_." + port + "_." + subset + "_." + host;
  }

  /**
   * The same name as a valid DNS host name, {@code outbound-PORT[-SUBSET].HOST}, for clients
   * whose TLS stack will not send a server name with underscores: grpc-java drops Istio's SNI
   * without a word (seen in a test), so proxyless clients send this one and east-west gateways
   * match both. Null when the first label would exceed DNS's 63 characters.
   */
  public String sniAlias() {
    String label = direction + "-" + port + (subset.isEmpty() ? "" : "-" + subset);
    return label.length() > 63 ? null : label + "." + host;
  }

  /**
   * {@link #sniAlias} of an SNI written in Istio's form ({@code outbound_.PORT_.SUBSET_.HOST}, as a
   * DestinationRule's {@code tls.sni} may give it), or null when {@code sni} is not of that form.
   */
  public static String sniAliasOf(String sni) {
    String[] parts = sni.split("_\\.", 4);
    if (parts.length != 4 || !parts[0].equals("outbound") || parts[3].isEmpty()) return null;
    try {
      int port = Integer.parseInt(parts[1]);
      if (port < 1 || port > 65535) return null;
      return new ClusterName("outbound", port, parts[2], parts[3]).sniAlias();
    } catch (RuntimeException e) {
      return null;
    }
  }

  @Override
  public String toString() {
    return direction + "|" + port + "|" + subset + "|" + host;
  }
}
