package weft.xds.envoygen;

import java.util.ArrayList;
import java.util.List;
import weft.xds.proxy.Proxy;

/**
 * The Host header values a sidecar's virtual host answers to, as Istio generates them
 * (httproute.go generateVirtualHostDomains / GenerateAltVirtualHosts): the hostname, the short
 * forms a client in the proxy's DNS domain may use, and the service VIP, each bare and with the port.
 */
final class Domains {
  private static final String SVC = ".svc.";

  private Domains() {}

  static List<String> of(String host, int port, String vip, Proxy proxy) {
    List<String> out = new ArrayList<>();
    add(out, host, port);
    out.addAll(alternatives(host, port, dnsDomain(proxy)));
    if (vip != null && !vip.equals(WellKnown.WILDCARD)) add(out, ipv6Safe(vip), port);
    return out;
  }

  /** Istio falls back to {@code NAMESPACE.svc.cluster.local} when the node id carries no domain. */
  static String dnsDomain(Proxy proxy) {
    String d = proxy.dnsDomain();
    return d == null || d.isEmpty() ? proxy.namespace() + ".svc.cluster.local" : d;
  }

  private static void add(List<String> out, String name, int port) {
    out.add(name);
    out.add(name + ":" + port);
  }

  /** Envoy compares the Host header literally; an IPv6 VIP arrives bracketed. */
  private static String ipv6Safe(String ip) {
    return ip.contains(":") && !ip.startsWith("[") ? "[" + ip + "]" : ip;
  }

  static List<String> alternatives(String host, int port, String proxyDomain) {
    int id = proxyDomain.indexOf(SVC);
    if (id >= 0) {
      // Inside Kubernetes only names under the proxy's cluster domain are expanded: expanding
      // anything else could collide with another service's short name.
      if (!host.endsWith(proxyDomain.substring(id))) return List.of();
      return kubernetesAlternatives(host, port, proxyDomain.substring(0, id));
    }
    return sharedSuffixAlternatives(host, port, proxyDomain);
  }

  /** {@code name} and {@code name.ns.svc} and {@code name.ns} for the own namespace; only the latter two elsewhere. */
  private static List<String> kubernetesAlternatives(String host, int port, String proxyNamespace) {
    int ih = host.indexOf(SVC);
    int dot = host.indexOf('.');
    if (ih <= 0 || dot + 1 > ih) return List.of();
    String name = host.substring(0, dot);
    String nameNs = host.substring(0, ih);
    List<String> out = new ArrayList<>();
    if (host.substring(dot + 1, ih).equals(proxyNamespace)) {
      add(out, name, port);
      add(out, nameNs + ".svc", port);
      add(out, nameNs, port);
    } else {
      add(out, nameNs, port);
      add(out, nameNs + ".svc", port);
    }
    return out;
  }

  /** Outside Kubernetes: drop the suffix the host shares with the proxy's domain, if any. */
  private static List<String> sharedSuffixAlternatives(String host, int port, String proxyDomain) {
    String[] h = host.split("\\.");
    String[] p = proxyDomain.isEmpty() ? new String[0] : proxyDomain.split("\\.");
    int shared = 0;
    while (shared < Math.min(h.length, p.length) && h[h.length - 1 - shared].equals(p[p.length - 1 - shared])) {
      shared++;
    }
    if (shared == 0 || shared == h.length) return List.of();
    int unique = h.length - shared;
    String uniqueName = String.join(".", java.util.Arrays.copyOf(h, unique));
    List<String> out = new ArrayList<>();
    add(out, uniqueName, port);
    if (unique == 2) add(out, uniqueName + "." + h[unique], port);
    return out;
  }
}
