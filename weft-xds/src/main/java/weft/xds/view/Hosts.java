package weft.xds.view;

/** Istio's host-name rules: short names, wildcards. */
public final class Hosts {
  private Hosts() {}

  /** A name without dots is short for {@code name.NS.svc.cluster.local}, relative to the config's namespace. */
  public static String resolve(String host, String configNamespace) {
    if (host.equals("*") || host.contains(".")) return host;
    return host + "." + configNamespace + ".svc.cluster.local";
  }

  /** True when {@code pattern} (exact, {@code *}, or {@code *.suffix}) covers {@code host}. */
  public static boolean matches(String pattern, String host) {
    if (pattern.equals("*") || pattern.equals(host)) return true;
    return pattern.startsWith("*.") && host.endsWith(pattern.substring(1));
  }
}
