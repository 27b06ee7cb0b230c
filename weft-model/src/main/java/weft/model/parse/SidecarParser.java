package weft.model.parse;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import weft.model.Sidecar;

/**
 * A {@code networking.istio.io} Sidecar. Weft implements its egress hosts (what the selected
 * workloads may see); ingress listeners and traffic policies are accepted with a warning.
 */
final class SidecarParser {
  private SidecarParser() {}

  static Sidecar parse(Document d) {
    Fields spec = d.root().object("spec");
    Report report = d.report();
    Map<String, String> selector = Selectors.labels(spec);
    List<Sidecar.Egress> egress = new ArrayList<>();
    List<Fields> listeners = spec.objects("egress");
    Set<Integer> ports = new HashSet<>();
    for (int i = 0; i < listeners.size(); i++) {
      Fields e = listeners.get(i);
      int port = 0;
      Fields p = e.object("port");
      if (p.present()) {
        Integer number = p.port("number");
        if (!p.has("number")) {
          report.error(p.at("number"), p.at("number") + " is missing; set the port number or remove port");
        }
        p.notImplemented("protocol", "name", "targetPort");
        p.rejectUnknown("SidecarPort");
        port = number == null ? 0 : number;
        if (number != null && !ports.add(number)) {
          report.error(p.at("number"), "port " + number + " has two egress listeners; merge them");
        }
      } else if (i != listeners.size() - 1) {
        report.error(e.path(), e.path() + " has no port, so it catches all traffic; it must be the last egress "
            + "listener");
      }
      List<String> hosts = e.strings("hosts");
      if (hosts.isEmpty()) {
        report.error(e.at("hosts"), e.at("hosts") + " is empty; list hosts as namespace/host, e.g. ./* or "
            + "istio-system/*");
      }
      for (int h = 0; h < hosts.size(); h++) {
        String bad = egressHost(hosts.get(h));
        if (bad != null) report.error(e.at("hosts") + "[" + h + "]", bad);
      }
      e.notImplemented("bind", "captureMode");
      e.rejectUnknown("IstioEgressListener");
      egress.add(new Sidecar.Egress(port, hosts));
    }
    boolean other = spec.has("ingress") || spec.has("outboundTrafficPolicy") || spec.has("inboundConnectionPool");
    String outboundPolicy = MeshConfigParser.outboundTrafficPolicy(spec.object("outboundTrafficPolicy"));
    spec.notImplemented("ingress", "inboundConnectionPool");
    spec.rejectUnknown("Sidecar");
    if (listeners.isEmpty() && !other) {
      report.error(spec.path(), "the Sidecar configures nothing; add egress hosts or remove it");
    }
    return new Sidecar(d.id(), selector, egress, outboundPolicy);
  }

  /**
   * {@code namespace/dnsName}: namespace is *, ., ~ or a name, and may carry a leading {@code ~} that
   * makes the entry an exclusion ({@code ~prod/*}); dnsName is * or a (wildcard) FQDN.
   */
  static String egressHost(String host) {
    int slash = host.indexOf('/');
    String fix = "; write it as namespace/host, e.g. ./*, istio-system/*, */*.example.com or prod/reviews.prod.svc."
        + "cluster.local";
    if (slash < 0) return "egress host \"" + host + "\" has no namespace" + fix;
    String ns = host.substring(0, slash);
    String name = host.substring(slash + 1);
    if (ns.isEmpty() || name.isEmpty()) return "egress host \"" + host + "\" has an empty part" + fix;
    String named = ns.startsWith("~") && ns.length() > 1 ? ns.substring(1) : ns;
    if (!named.equals("*") && !named.equals(".") && !named.equals("~") && !Checks.isIstioLabel(named)) {
      return "egress host \"" + host + "\" names an invalid namespace \"" + ns + "\"" + fix;
    }
    if (name.equals("*")) return null;
    if (!name.contains(".")) {
      return "egress host \"" + host + "\" uses the short name \"" + name + "\"; use the full name (e.g. "
          + name + ".NAMESPACE.svc.cluster.local) or *";
    }
    String bad = Checks.wildcardDomain(name);
    if (bad != null) return "egress host \"" + host + "\": " + bad;
    return null;
  }
}
