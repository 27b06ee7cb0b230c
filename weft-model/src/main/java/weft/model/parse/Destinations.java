package weft.model.parse;

import java.util.ArrayList;
import java.util.List;
import weft.model.VirtualService.Destination;
import weft.model.VirtualService.RouteDestination;

/**
 * Route destinations of HTTP and TCP routes. Weights need not add up to 100 (Istio normalises
 * them) and a destination host need not exist yet; only each weight's range is checked.
 */
final class Destinations {
  private Destinations() {}

  static List<RouteDestination> read(Fields route, String field, boolean http) {
    List<RouteDestination> out = new ArrayList<>();
    long total = 0;
    boolean badWeight = false;
    for (Fields rd : route.objects(field)) {
      boolean given = rd.has("destination");
      Fields d = rd.object("destination");
      // A destination of the wrong shape has been reported already; do not also call it missing.
      Destination destination = d.present() || !given ? destination(d, rd.at("destination")) : null;
      Integer weight = rd.int32("weight", 0, 100, "fix or remove the weight");
      badWeight |= weight == null && rd.has("weight");
      weft.model.VirtualService.Headers headers = http ? RouteHeaders.read(rd.object("headers")) : null;
      rd.rejectUnknown(http ? "HTTPRouteDestination" : "RouteDestination");
      total += weight == null ? 0 : weight;
      out.add(new RouteDestination(destination, weight == null ? 0 : weight, headers));
    }
    if (out.size() > 1 && total == 0 && !badWeight) {
      route.report().error(route.at(field), route.at(field) + " lists " + out.size() + " destinations but none has "
          + "a weight; give them weights (they need not add up to 100)");
    }
    return out;
  }

  /** A Destination; null when absent (after reporting it). */
  static Destination destination(Fields d, String where) {
    Report report = d.report();
    if (!d.present()) {
      report.error(where, where + " is missing; every route needs a destination with a host");
      return null;
    }
    String host = d.string("host");
    if (host == null || host.isEmpty()) {
      report.error(d.at("host"), d.at("host") + " is missing; set the destination host, e.g. reviews");
    } else if (host.equals("*")) {
      report.error(d.at("host"), "destination host \"*\" is not allowed; name the service host");
    } else {
      String bad = Checks.wildcardDomain(host);
      if (bad != null) report.error(d.at("host"), bad);
    }
    String subset = d.string("subset");
    if (subset != null) {
      String bad = Checks.istioLabel(subset, "subset name");
      if (bad != null) report.error(d.at("subset"), bad);
    }
    int port = 0;
    Fields selector = d.object("port");
    if (selector.present()) {
      if (!selector.has("number")) {
        report.error(selector.at("number"), selector.at("number") + " is missing; set the destination port number "
            + "or remove port");
      }
      Integer number = selector.port("number");
      selector.rejectUnknown("PortSelector");
      port = number == null ? 0 : number;
    }
    d.rejectUnknown("Destination");
    return new Destination(host, subset == null || subset.isEmpty() ? null : subset, port);
  }
}
