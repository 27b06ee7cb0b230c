package weft.model.parse;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import weft.model.VirtualService;
import weft.model.VirtualService.HttpRoute;
import weft.model.VirtualService.TcpMatch;
import weft.model.VirtualService.TcpRoute;
import weft.model.VirtualService.TlsMatch;
import weft.model.VirtualService.TlsRoute;

/** A {@code networking.istio.io} VirtualService, checked as Istio's validation checks it. */
final class VirtualServiceParser {
  private static final String MESH = "mesh";

  private VirtualServiceParser() {}

  static VirtualService parse(Document d) {
    Fields spec = d.root().object("spec");
    Report report = d.report();
    List<String> gateways = spec.strings("gateways");
    gateways(spec, gateways);
    boolean meshBound = gateways.isEmpty() || gateways.contains(MESH);
    // Istio reads a VirtualService without hosts as a delegate: only another one's http[].delegate uses it.
    List<String> hosts = spec.strings("hosts");
    boolean delegate = hosts.isEmpty();
    if (!delegate) hosts(spec, hosts, meshBound);
    if (delegate) delegateShape(spec, gateways);
    List<HttpRoute> http = new ArrayList<>();
    for (Fields r : spec.objects("http")) http.add(HttpRouteParser.read(r, delegate));
    List<TcpRoute> tcp = new ArrayList<>();
    for (Fields r : spec.objects("tcp")) tcp.add(tcpRoute(r));
    List<TlsRoute> tls = new ArrayList<>();
    for (Fields r : spec.objects("tls")) tls.add(tlsRoute(r, hosts));
    if (!tls.isEmpty() && meshBound) {
      // Envoy sidecars take the first tls route that covers the host they connect to (the listener
      // of a TLS port tells hosts apart by SNI); proxyless clients speak gRPC, not raw TLS.
      report.warn(spec.at("tls"), spec.at("tls") + ": Envoy sidecars apply the first tls route that covers the "
          + "host they connect to, not a route per SNI name on a shared address; proxyless gRPC clients ignore "
          + "tls routes");
    }
    if (http.isEmpty() && tcp.isEmpty() && tls.isEmpty() && !spec.has("tls")) {
      report.error(spec.at("http"), "a VirtualService needs http, tcp or tls routes; add spec.http, spec.tcp or "
          + "spec.tls");
    }
    List<String> exportTo = spec.strings("exportTo");
    Checks.exportTo(report, spec.at("exportTo"), exportTo, d.namespace(), false, false);
    spec.rejectUnknown("VirtualService");
    return new VirtualService(d.id(), hosts, gateways, http, tls, tcp, exportTo);
  }

  /** Istio's rules for a delegate: HTTP routes only, no gateways of its own (its root's apply). */
  private static void delegateShape(Fields spec, List<String> gateways) {
    Report report = spec.report();
    if (!gateways.isEmpty()) {
      report.error(spec.at("gateways"), "a VirtualService without hosts is a delegate and takes its root's "
          + "gateways; remove spec.gateways, or add spec.hosts if it is not a delegate");
    }
    for (String kind : List.of("tcp", "tls")) {
      if (spec.has(kind)) {
        report.error(spec.at(kind), "a VirtualService without hosts is a delegate and holds http routes only; "
            + "remove spec." + kind + ", or add spec.hosts if it is not a delegate");
      }
    }
  }

  private static void hosts(Fields spec, List<String> hosts, boolean meshBound) {
    Report report = spec.report();
    Set<String> seen = new HashSet<>();
    for (int i = 0; i < hosts.size(); i++) {
      String h = hosts.get(i);
      String where = spec.at("hosts") + "[" + i + "]";
      if (!seen.add(h)) {
        report.error(where, "host " + h + " is listed twice; list each host once");
      } else if (h.equals("*") && meshBound) {
        report.error(where, "host \"*\" is not allowed for a VirtualService applied to the mesh (sidecars); name "
            + "the hosts");
      } else if (!Checks.isIp(h)) {
        String bad = Checks.wildcardDomain(h);
        if (bad != null) report.error(where, bad);
      }
    }
  }

  /** Gateways are "mesh", "namespace/name" or a (legacy) host-style name. */
  /** Checks a match's {@code gateways} as the VirtualService's own are checked. */
  static void checkGateways(Fields match, List<String> gateways) {
    gateways(match, gateways);
  }

  private static void gateways(Fields spec, List<String> gateways) {
    for (int i = 0; i < gateways.size(); i++) {
      String g = gateways.get(i);
      String where = spec.at("gateways") + "[" + i + "]";
      int slash = g.indexOf('/');
      if (slash >= 0) {
        String ns = g.substring(0, slash);
        String name = g.substring(slash + 1);
        if (!Checks.isIstioLabel(ns) || !Checks.isIstioLabel(name)) {
          spec.report().error(where, "gateway \"" + g + "\" is invalid; write it as namespace/name with DNS "
              + "labels, or use mesh");
        }
      } else if (Checks.fqdn(g) != null) {
        spec.report().error(where, "gateway \"" + g + "\" is invalid; write it as namespace/name, or use mesh");
      }
    }
  }

  private static TcpRoute tcpRoute(Fields r) {
    List<TcpMatch> matches = new ArrayList<>();
    for (Fields m : r.objects("match")) {
      List<String> subnets = m.strings("destinationSubnets");
      for (int i = 0; i < subnets.size(); i++) {
        String bad = Checks.ipOrCidr(subnets.get(i));
        if (bad != null) r.report().error(m.at("destinationSubnets") + "[" + i + "]", bad);
      }
      Integer port = m.port("port");
      Map<String, String> sourceLabels = m.stringMap("sourceLabels");
      Checks.labels(r.report(), m.at("sourceLabels"), sourceLabels);
      List<String> gateways = m.strings("gateways");
      gateways(m, gateways);
      m.notImplemented("sourceSubnet", "sourceNamespace");
      m.rejectUnknown("L4MatchAttributes");
      matches.add(new TcpMatch(port == null ? 0 : port, subnets, sourceLabels, gateways));
    }
    var route = Destinations.read(r, "route", false);
    if (route.isEmpty()) {
      r.report().error(r.at("route"), r.path() + " has no route; add route with at least one destination");
    }
    r.rejectUnknown("TCPRoute");
    return new TcpRoute(matches, route);
  }

  /**
   * Istio's validateTLSRoute: at least one match, each with at least one SNI host that is one of the
   * VirtualService's hosts or falls under one of its wildcards, and at least one destination.
   */
  private static TlsRoute tlsRoute(Fields r, List<String> vsHosts) {
    Report report = r.report();
    List<TlsMatch> matches = new ArrayList<>();
    if (r.objects("match").isEmpty()) {
      report.error(r.at("match"), r.path() + " has no match; a tls route needs at least one match with sniHosts, "
          + "e.g. match: [{sniHosts: [\"*\"]}]");
    }
    for (Fields m : r.objects("match")) {
      List<String> sni = m.strings("sniHosts");
      if (sni.isEmpty()) {
        report.error(m.at("sniHosts"), m.at("sniHosts") + " is missing or empty; list the SNI names to match, or "
            + "\"*\" for any");
      }
      for (int i = 0; i < sni.size(); i++) {
        String where = m.at("sniHosts") + "[" + i + "]";
        String h = sni.get(i);
        String bad = Checks.isIp(h) ? "SNI host " + h + " is an IP address; SNI carries names only"
            : h.equals("*") ? null : Checks.wildcardDomain(h);
        if (bad != null) {
          report.error(where, bad);
        } else if (vsHosts.stream().noneMatch(v -> sniWithin(h, v))) {
          report.error(where, "SNI host " + h + " is not one of the VirtualService's hosts " + vsHosts
              + " nor under one of their wildcards; add it to spec.hosts or change it");
        }
      }
      List<String> subnets = m.strings("destinationSubnets");
      for (int i = 0; i < subnets.size(); i++) {
        String bad = Checks.ipOrCidr(subnets.get(i));
        if (bad != null) report.error(m.at("destinationSubnets") + "[" + i + "]", bad);
      }
      Integer port = m.port("port");
      Map<String, String> sourceLabels = m.stringMap("sourceLabels");
      Checks.labels(report, m.at("sourceLabels"), sourceLabels);
      List<String> gateways = m.strings("gateways");
      gateways(m, gateways);
      m.notImplemented("sourceNamespace");
      m.rejectUnknown("TLSMatchAttributes");
      matches.add(new TlsMatch(sni, subnets, port == null ? 0 : port, sourceLabels, gateways));
    }
    var route = Destinations.read(r, "route", false);
    if (route.isEmpty()) {
      report.error(r.at("route"), r.path() + " has no route; add route with at least one destination");
    }
    r.rejectUnknown("TLSRoute");
    return new TlsRoute(matches, route);
  }

  /** Istio's host.Name.SubsetOf: {@code sni} names nothing outside {@code host}. */
  private static boolean sniWithin(String sni, String host) {
    String s = sni.toLowerCase(java.util.Locale.ROOT);
    String h = host.toLowerCase(java.util.Locale.ROOT);
    if (h.equals("*") || s.equals(h)) return true;
    if (!h.startsWith("*.")) return false;
    String suffix = h.substring(1);
    return s.endsWith(suffix) && s.length() > suffix.length() && !s.equals("*");
  }
}
