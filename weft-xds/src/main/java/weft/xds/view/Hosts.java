package weft.xds.view;

/** Istio's host-name rules: short names, wildcards. */
public final class Hosts {
  private Hosts() {}

  /** A name without dots is short for {@code name.NS.svc.cluster.local}, relative to the config's namespace. */
  public static String resolve(String host, String configNamespace) {
    if (host.equals("*") || host.contains(".")) return host;
    return host + "." + configNamespace + ".svc.cluster.local";
  }

  /**
   * True when {@code pattern} (exact, {@code *}, {@code *.suffix} or a partial wildcard such as
   * {@code *-foo.example.com}) covers {@code host}: as Istio's host.Name.Matches, a leading {@code *}
   * stands for any non-empty prefix.
   */
  public static boolean matches(String pattern, String host) {
    if (pattern.equals("*") || pattern.equals(host)) return true;
    return pattern.startsWith("*") && host.length() > pattern.length() - 1 && host.endsWith(pattern.substring(1));
  }

  /**
   * The {@code namespace/name} a VirtualService's {@code gateways} entry refers to, resolved as Istio
   * does: {@code ns/name} as written ({@code ./name} in the VirtualService's namespace), a bare name in
   * the VirtualService's namespace, or the legacy {@code name.ns.svc.cluster.local} form.
   * {@code mesh} stays {@code mesh}.
   */
  public static String gatewayKey(String gateway, String vsNamespace) {
    if (gateway.equals("mesh")) return gateway;
    int slash = gateway.indexOf('/');
    if (slash >= 0) {
      return gateway.startsWith("./") ? vsNamespace + gateway.substring(1) : gateway;
    }
    int dot = gateway.indexOf('.');
    if (dot < 0) return vsNamespace + "/" + gateway;
    String rest = gateway.substring(dot + 1);
    int next = rest.indexOf('.');
    return (next < 0 ? rest : rest.substring(0, next)) + "/" + gateway.substring(0, dot);
  }
}
