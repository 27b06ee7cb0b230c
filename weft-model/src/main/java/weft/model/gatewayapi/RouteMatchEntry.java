package weft.model.gatewayapi;

import java.util.Comparator;
import weft.model.GatewayRoute;

/**
 * One match of one rule of one HTTPRoute or GRPCRoute, the unit that Gateway API orders: all the
 * matches of all the routes on one host are sorted together, and each becomes its own route.
 *
 * @param order the route's place among the routes (oldest first, then by namespace/name)
 */
record RouteMatchEntry(GatewayRoute route, int order, int ruleIndex, GatewayRoute.Rule rule, int matchIndex,
    GatewayRoute.Match match, int port) {

  /** How a path match ranks (Istio's order): exact above prefix above regular expression. */
  private int pathRank() {
    String type = pathType();
    return switch (type) {
      case "Exact" -> 3;
      case "PathPrefix" -> 2;
      default -> 1;
    };
  }

  /** The HTTP path match this entry stands for (gRPC methods become paths: {@code /SERVICE/METHOD}). */
  GatewayRoute.PathMatch path() {
    if (match.path() != null) return match.path();
    GatewayRoute.GrpcMethod g = match.grpc();
    if (g == null) return new GatewayRoute.PathMatch("PathPrefix", "/");
    if (g.regex()) {
      return new GatewayRoute.PathMatch("RegularExpression", "/" + (g.service() == null ? "[^/]+" : g.service())
          + "/" + (g.method() == null ? "[^/]+" : g.method()));
    }
    if (g.method() == null) return new GatewayRoute.PathMatch("PathPrefix", "/" + g.service() + "/");
    if (g.service() == null) {
      return new GatewayRoute.PathMatch("RegularExpression", "/[^/]+/" + g.method());
    }
    return new GatewayRoute.PathMatch("Exact", "/" + g.service() + "/" + g.method());
  }

  private String pathType() {
    return path().type();
  }

  /** The length that ranks prefixes: a trailing '/' does not count (the API ignores it). */
  private int pathLength() {
    String v = path().value();
    return v.length() > 1 && v.endsWith("/") ? v.length() - 1 : v.length();
  }

  /**
   * Gateway API's precedence (HTTPRoute's "Matching precedence"): an exact path, then the longest
   * prefix, then a method match, then the most header matches, then the most query parameter
   * matches; ties go to the oldest route, then by namespace/name, then to the first rule and match
   * as written.
   */
  static final Comparator<RouteMatchEntry> PRECEDENCE = Comparator
      .comparingInt((RouteMatchEntry e) -> -e.pathRank())
      .thenComparingInt(e -> -e.pathLength())
      .thenComparingInt(e -> e.match.method() == null ? 1 : 0)
      .thenComparingInt(e -> -e.match.headers().size())
      .thenComparingInt(e -> -e.match.queryParams().size())
      .thenComparingInt(RouteMatchEntry::order)
      .thenComparingInt(RouteMatchEntry::ruleIndex)
      .thenComparingInt(RouteMatchEntry::matchIndex);

  /** Where this match was written, for messages. */
  String where() {
    return "spec.rules[" + ruleIndex + "]";
  }
}
