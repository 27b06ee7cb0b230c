package weft.xds.grpcgen;

/** {@code host:port} as gRPC target authorities and Istio listener names write it; port 0 when absent. */
public record HostPort(String host, int port) {
  /** The host of a {@code HOST:PORT} name, or null when the name is not one. */
  public static String hostOf(String name) {
    HostPort hp = parse(name);
    return hp == null ? null : hp.host();
  }

  static HostPort parse(String text) {
    if (text.isEmpty()) return null;
    int colon = text.lastIndexOf(':');
    boolean bracketed = text.startsWith("[");
    if (colon < 0 || (bracketed && colon < text.indexOf(']'))) {
      return new HostPort(strip(text), 0);
    }
    String host = strip(text.substring(0, colon));
    try {
      int port = Integer.parseInt(text.substring(colon + 1));
      if (port < 1 || port > 65535 || host.isEmpty()) return null;
      return new HostPort(host, port);
    } catch (NumberFormatException e) {
      return null;
    }
  }

  private static String strip(String host) {
    return host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1) : host;
  }
}
