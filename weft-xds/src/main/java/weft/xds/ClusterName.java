package weft.xds;

/** Istio's cluster names: {@code outbound|PORT|SUBSET|HOST} and {@code inbound|PORT||}. */
public record ClusterName(String direction, int port, String subset, String host) {
  public static ClusterName outbound(int port, String subset, String host) {
    return new ClusterName("outbound", port, subset == null ? "" : subset, host);
  }

  /** Parses a name; returns null for names that are not Istio cluster names. */
  public static ClusterName parse(String name) {
    String[] parts = name.split("\\|", -1);
    if (parts.length != 4) return null;
    try {
      return new ClusterName(parts[0], Integer.parseInt(parts[1]), parts[2], parts[3]);
    } catch (NumberFormatException e) {
      return null;
    }
  }

  @Override
  public String toString() {
    return direction + "|" + port + "|" + subset + "|" + host;
  }
}
