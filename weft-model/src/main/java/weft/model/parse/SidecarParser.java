package weft.model.parse;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import weft.model.DestinationRule;
import weft.model.Sidecar;
import weft.model.VirtualService;

/**
 * A {@code networking.istio.io} Sidecar, checked as Istio's ValidateSidecar checks it. Weft applies
 * its egress listeners (hosts, port, bind, captureMode), ingress listeners, outboundTrafficPolicy and
 * connection pools to Envoy sidecars; what proxyless gRPC workloads cannot honour is one warning per
 * field, naming the effect.
 */
final class SidecarParser {
  private SidecarParser() {}

  private static final List<String> CAPTURE_MODES =
      List.of(Sidecar.CAPTURE_DEFAULT, Sidecar.CAPTURE_IPTABLES, Sidecar.CAPTURE_NONE);
  private static final String UNIX = "unix://";

  static Sidecar parse(Document d) {
    Fields spec = d.root().object("spec");
    Report report = d.report();
    Map<String, String> selector = Selectors.labels(spec);
    List<Sidecar.Egress> egress = egress(spec, report);
    List<Sidecar.Ingress> ingress = ingress(spec, report);
    boolean hasPolicy = spec.has("outboundTrafficPolicy");
    Fields policy = spec.object("outboundTrafficPolicy");
    Fields proxy = policy.object("egressProxy");
    VirtualService.Destination egressProxy = proxy.present()
        ? Destinations.destination(proxy, policy.at("egressProxy")) : null;
    String outboundPolicy = MeshConfigParser.outboundTrafficPolicy(policy, true);
    if (egressProxy != null) {
      if (!"ALLOW_ANY".equals(outboundPolicy)) {
        report.error(policy.at("egressProxy"), policy.at("egressProxy") + " is set with mode " + outboundPolicy
            + "; Istio allows it only with ALLOW_ANY (REGISTRY_ONLY sends unknown destinations nowhere)");
      }
      if (egressProxy.port() == 0) {
        report.error(policy.at("egressProxy"), policy.at("egressProxy") + ".port is missing; set the egress proxy's "
            + "port number");
      }
    }
    boolean hasPool = spec.has("inboundConnectionPool");
    DestinationRule.ConnectionPool pool = TrafficPolicyParser.connectionPool(spec.object("inboundConnectionPool"));
    spec.rejectUnknown("Sidecar");
    if (egress.isEmpty() && ingress.isEmpty() && !hasPolicy && !hasPool) {
      report.error(spec.path(), "the Sidecar configures nothing; add egress hosts or remove it");
    }
    proxylessLimits(spec, egress, ingress, outboundPolicy, hasPool, egressProxy != null);
    return new Sidecar(d.id(), selector, egress, outboundPolicy, ingress, pool, egressProxy);
  }

  private static List<Sidecar.Egress> egress(Fields spec, Report report) {
    List<Sidecar.Egress> egress = new ArrayList<>();
    List<Fields> listeners = spec.objects("egress");
    Set<Integer> ports = new HashSet<>();
    Set<String> sockets = new HashSet<>();
    for (int i = 0; i < listeners.size(); i++) {
      Fields e = listeners.get(i);
      String bind = e.string("bind");
      String captureMode = e.enumOf("captureMode", CAPTURE_MODES, Sidecar.CAPTURE_DEFAULT);
      int port = 0;
      String protocol = null;
      Fields p = e.object("port");
      if (p.present()) {
        Integer number = p.int32("number", 0, 65535, "use a port number from 1 to 65535, or 0 with a unix:// bind");
        if (!p.has("number")) {
          report.error(p.at("number"), p.at("number") + " is missing; set the port number or remove port");
        }
        protocol = protocol(p);
        p.string("name");
        p.notImplemented("targetPort");
        p.rejectUnknown("SidecarPort");
        port = number == null ? 0 : number;
        if (number != null && number == 0) {
          // Istio: port 0 is a unix domain socket listener, which needs a unix:// bind.
          if (bind == null || !bind.startsWith(UNIX) || bind.length() == UNIX.length()) {
            report.error(e.at("bind"), "port 0 needs a unix domain socket bind such as unix:///var/run/app.sock; "
                + "set bind or use a port number");
          } else if (!sockets.add(bind)) {
            report.error(e.at("bind"), "unix domain socket " + bind + " has two egress listeners; merge them");
          }
          if (Sidecar.CAPTURE_IPTABLES.equals(captureMode)) {
            report.error(e.at("captureMode"), "captureMode must be DEFAULT or NONE for a unix domain socket listener");
          }
        } else if (number != null && !ports.add(number)) {
          report.error(p.at("number"), "port " + number + " has two egress listeners; merge them");
        }
        if (bind != null && number != null && number != 0) checkBind(report, e.at("bind"), bind);
      } else {
        if (i != listeners.size() - 1) {
          report.error(e.path(), e.path() + " has no port, so it catches all traffic; it must be the last egress "
              + "listener");
        }
        if (bind != null) checkBind(report, e.at("bind"), bind);
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
      e.rejectUnknown("IstioEgressListener");
      if (port == 0 && bind != null && bind.startsWith(UNIX)) {
        report.warn(e.at("bind"), e.at("bind") + " is a unix domain socket listener, which Weft does not generate; "
            + "the workload cannot reach these hosts through " + bind);
      }
      egress.add(new Sidecar.Egress(port, hosts, protocol, bind, captureMode));
    }
    return egress;
  }

  private static List<Sidecar.Ingress> ingress(Fields spec, Report report) {
    List<Sidecar.Ingress> out = new ArrayList<>();
    Set<Integer> ports = new HashSet<>();
    for (Fields i : spec.objects("ingress")) {
      Fields p = i.object("port");
      if (!p.present()) {
        report.error(i.at("port"), i.at("port") + " is missing; ingress listeners need a port");
        i.drainUnread();
        continue;
      }
      Integer number = p.port("number");
      if (!p.has("number")) report.error(p.at("number"), p.at("number") + " is missing; set the port number");
      String protocol = protocol(p);
      String name = p.string("name");
      if (p.has("targetPort")) {
        p.take("targetPort");
        report.error(p.at("targetPort"), p.at("targetPort") + " has no effect on Sidecars (Istio refuses it too); "
            + "remove it and put the workload's port in defaultEndpoint");
      }
      p.rejectUnknown("SidecarPort");
      if (number != null && !ports.add(number)) {
        report.error(p.at("number"), "port " + number + " has two ingress listeners; merge them");
      }
      String bind = i.string("bind");
      if (bind != null) checkBind(report, i.at("bind"), bind);
      String captureMode = i.enumOf("captureMode", CAPTURE_MODES, Sidecar.CAPTURE_DEFAULT);
      String endpoint = i.string("defaultEndpoint");
      if (endpoint != null && !endpoint.isEmpty()) {
        String bad = defaultEndpoint(endpoint);
        if (bad != null) report.error(i.at("defaultEndpoint"), i.at("defaultEndpoint") + " " + bad);
      }
      if (endpoint != null && endpoint.isEmpty()) endpoint = null;
      if (i.has("tls")) {
        i.take("tls");
        report.warn(i.at("tls"), i.at("tls") + " is not applied by Weft (Istio applies it only when istiod runs with "
            + "ENABLE_TLS_ON_SIDECAR_INGRESS); the port is served with the workload's PeerAuthentication instead");
      }
      DestinationRule.ConnectionPool pool = TrafficPolicyParser.connectionPool(i.object("connectionPool"));
      i.rejectUnknown("IstioIngressListener");
      if (number != null) {
        out.add(new Sidecar.Ingress(number, protocol, name, bind, captureMode, endpoint, pool));
      }
    }
    return out;
  }

  /** The port's protocol in Istio's spelling, null when unset; an unknown one is an error. */
  private static String protocol(Fields p) {
    String protocol = p.string("protocol");
    if (protocol == null || protocol.isEmpty()) return null;
    String canonical = Checks.protocol(protocol);
    if (canonical == null) {
      p.report().error(p.at("protocol"), "unknown protocol \"" + protocol + "\"; use one of HTTP, HTTPS, HTTP2, "
          + "GRPC, GRPC-Web, TCP, TLS, Mongo, Redis, MySQL");
      return null;
    }
    return canonical;
  }

  private static void checkBind(Report report, String where, String bind) {
    if (!Checks.isIp(bind)) {
      report.error(where, where + " \"" + bind + "\" is not an IP address; bind takes an address such as 127.0.0.1 "
          + "(or unix:///path with port 0 on an egress listener)");
    }
  }

  /** Istio's rule: unix://PATH, or HOST:PORT with HOST one of 127.0.0.1, 0.0.0.0, ::1, :: or empty. */
  static String defaultEndpoint(String endpoint) {
    String fix = "; write 127.0.0.1:PORT, 0.0.0.0:PORT, [::1]:PORT, [::]:PORT or unix:///path";
    if (endpoint.startsWith(UNIX)) {
      return endpoint.length() > UNIX.length() ? null : "names no socket path" + fix;
    }
    int colon = endpoint.lastIndexOf(':');
    if (colon < 0) return "\"" + endpoint + "\" has no port" + fix;
    String host = endpoint.substring(0, colon);
    if (host.startsWith("[") && host.endsWith("]")) host = host.substring(1, host.length() - 1);
    else if (host.contains(":")) return "\"" + endpoint + "\" needs brackets around an IPv6 address" + fix;
    if (!List.of("", "127.0.0.1", "0.0.0.0", "::1", "::").contains(host)) {
      return "\"" + endpoint + "\" must send to the workload itself" + fix;
    }
    String port = endpoint.substring(colon + 1);
    if (port.isEmpty() || port.length() > 5 || !port.chars().allMatch(Character::isDigit)
        || Integer.parseInt(port) < 1 || Integer.parseInt(port) > 65535) {
      return "\"" + endpoint + "\" has no valid port (1 to 65535)" + fix;
    }
    return null;
  }

  /**
   * One warning per field that Envoy sidecars honour and proxyless gRPC workloads cannot: grpc-java
   * has no listeners to place on ports or addresses, serves its own ports itself, and dials
   * non-xds targets without Weft.
   */
  private static void proxylessLimits(Fields spec, List<Sidecar.Egress> egress, List<Sidecar.Ingress> ingress,
      String outboundPolicy, boolean pool, boolean egressProxy) {
    Report report = spec.report();
    String envoy = " is applied to Envoy sidecars; ";
    for (int i = 0; i < egress.size(); i++) {
      Sidecar.Egress e = egress.get(i);
      String at = spec.at("egress") + "[" + i + "]";
      if (e.port() != 0) {
        report.warn(at + ".port", at + ".port" + envoy + "proxyless gRPC clients have no listeners and reach the "
            + "hosts of this listener on every port");
      }
      if (e.bind() != null || !Sidecar.CAPTURE_DEFAULT.equals(e.captureMode())) {
        String field = at + (e.bind() != null ? ".bind" : ".captureMode");
        report.warn(field, field + envoy + "proxyless gRPC clients ignore them (they dial "
            + "endpoints directly)");
      }
    }
    if (!ingress.isEmpty()) {
      report.warn(spec.at("ingress"), spec.at("ingress") + envoy + "proxyless gRPC servers ignore it and serve the "
          + "ports they listen on");
    }
    if (pool) {
      report.warn(spec.at("inboundConnectionPool"), spec.at("inboundConnectionPool") + envoy + "proxyless gRPC "
          + "servers ignore it (grpc-java has no inbound connection limits)");
    }
    if (egressProxy) {
      report.warn(spec.at("outboundTrafficPolicy") + ".egressProxy", spec.at("outboundTrafficPolicy")
          + ".egressProxy" + envoy + "proxyless gRPC clients dial targets outside the registry directly, not through "
          + "the egress proxy");
    }
    if ("REGISTRY_ONLY".equals(outboundPolicy)) {
      report.warn(spec.at("outboundTrafficPolicy"), spec.at("outboundTrafficPolicy") + envoy + "proxyless gRPC "
          + "clients still reach targets outside the registry (grpc-java dials non-xds targets without Weft)");
    }
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
