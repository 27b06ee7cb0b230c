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
    List<String> hosts = hosts(spec, meshBound);
    List<HttpRoute> http = new ArrayList<>();
    for (Fields r : spec.objects("http")) http.add(HttpRouteParser.read(r));
    List<TcpRoute> tcp = new ArrayList<>();
    for (Fields r : spec.objects("tcp")) tcp.add(tcpRoute(r));
    boolean tls = spec.has("tls");
    spec.notImplemented("tls");
    if (http.isEmpty() && tcp.isEmpty() && !tls) {
      report.error(spec.at("http"), "a VirtualService needs http, tcp or tls routes; add spec.http or spec.tcp");
    }
    List<String> exportTo = spec.strings("exportTo");
    Checks.exportTo(report, spec.at("exportTo"), exportTo, d.namespace(), false, false);
    spec.rejectUnknown("VirtualService");
    return new VirtualService(d.id(), hosts, gateways, http, tcp, exportTo);
  }

  private static List<String> hosts(Fields spec, boolean meshBound) {
    Report report = spec.report();
    List<String> hosts = spec.strings("hosts");
    if (hosts.isEmpty() && !spec.has("hosts")) {
      // Istio reads a host-less VirtualService as a delegate of another one; Weft has no delegation yet.
      report.error(spec.at("hosts"), spec.at("hosts") + " is missing; add the hosts this VirtualService routes, e.g. "
          + "reviews (host-less delegate VirtualServices are not supported by Weft yet)");
    } else if (hosts.isEmpty()) {
      report.error(spec.at("hosts"), spec.at("hosts") + " is empty; add at least one host");
    }
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
    return hosts;
  }

  /** Gateways are "mesh", "namespace/name" or a (legacy) host-style name. */
  private static void gateways(Fields spec, List<String> gateways) {
    for (int i = 0; i < gateways.size(); i++) {
      String g = gateways.get(i);
      String where = spec.at("gateways") + "[" + i + "]";
      int slash = g.indexOf('/');
      if (slash >= 0) {
        String ns = g.substring(0, slash);
        String name = g.substring(slash + 1);
        if (!Checks.isDnsLabel(ns) || !Checks.isDnsLabel(name)) {
          spec.report().error(where, "gateway \"" + g + "\" is invalid; write it as namespace/name with lower-case "
              + "DNS labels, or use mesh");
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
      m.notImplemented("sourceSubnet", "gateways", "sourceNamespace");
      m.rejectUnknown("L4MatchAttributes");
      matches.add(new TcpMatch(port == null ? 0 : port, subnets, sourceLabels));
    }
    var route = Destinations.read(r, "route", false);
    if (route.isEmpty()) {
      r.report().error(r.at("route"), r.path() + " has no route; add route with at least one destination");
    }
    r.rejectUnknown("TCPRoute");
    return new TcpRoute(matches, route);
  }
}
