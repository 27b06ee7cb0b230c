package weft.model.gatewayapi;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import weft.model.GatewayRoute;
import weft.model.GatewayRoute.BackendRef;
import weft.model.GatewayRoute.Filter;
import weft.model.StringMatch;
import weft.model.VirtualService;

/**
 * One HTTPRoute or GRPCRoute match turned into VirtualService HTTP routes, as Istio converts them:
 * the match, the rule's filters (header changes, redirect, rewrite, mirrors), its backends with
 * their weights and timeouts. What cannot be served is reported and answered with 500, the API's
 * rule for a rule whose backends or filters are not usable.
 */
final class HttpRules {
  /** The API's answer when a rule has no usable backend or a filter that cannot be honoured. */
  static final int NO_BACKEND_STATUS = 500;

  private final ReferenceGrants grants;
  private final Findings findings;
  private final String domainSuffix;

  HttpRules(ReferenceGrants grants, Findings findings, String domainSuffix) {
    this.grants = grants;
    this.findings = findings;
    this.domainSuffix = domainSuffix;
  }

  /**
   * The routes of one match, in order. A prefix other than {@code /} becomes two routes, the path
   * itself and everything below {@code PATH/}: Gateway API prefixes match whole path segments
   * ({@code /foo} is not a prefix of {@code /foobar}), and a prefix rewrite must keep the separator.
   */
  List<VirtualService.HttpRoute> convert(RouteMatchEntry e) {
    GatewayRoute.PathMatch path = e.path();
    String name = e.route().id().namespace() + "." + e.route().id().name() + "." + e.ruleIndex() + "."
        + e.matchIndex();
    List<VirtualService.HttpRoute> out = new ArrayList<>();
    if (path.type().equals("PathPrefix") && !path.value().equals("/")) {
      String prefix = path.value().endsWith("/") ? path.value().substring(0, path.value().length() - 1)
          : path.value();
      out.add(route(e, name, new StringMatch(StringMatch.Kind.EXACT, prefix), PathPart.WHOLE));
      out.add(route(e, name + ".subpath", new StringMatch(StringMatch.Kind.PREFIX, prefix + "/"), PathPart.BELOW));
    } else {
      StringMatch.Kind kind = switch (path.type()) {
        case "Exact" -> StringMatch.Kind.EXACT;
        case "RegularExpression" -> StringMatch.Kind.REGEX;
        default -> StringMatch.Kind.PREFIX;
      };
      PathPart part = kind == StringMatch.Kind.EXACT ? PathPart.WHOLE
          : kind == StringMatch.Kind.PREFIX ? PathPart.ROOT : PathPart.REGEX;
      out.add(route(e, name, new StringMatch(kind, path.value()), part));
    }
    return out;
  }

  /** Which part of the path the match covers: what a prefix replacement can replace. */
  private enum PathPart {
    /** The whole path (an exact match, or a prefix's own path). */
    WHOLE,
    /** {@code PREFIX/} and below: replacing the prefix keeps the rest after the separator. */
    BELOW,
    /** The prefix {@code /}: everything. */
    ROOT,
    /** A regular expression: no prefix to replace. */
    REGEX
  }

  private VirtualService.HttpRoute route(RouteMatchEntry e, String name, StringMatch uri, PathPart part) {
    GatewayRoute.Match m = e.match();
    Map<String, StringMatch> headers = new LinkedHashMap<>();
    for (GatewayRoute.ValueMatch h : m.headers()) headers.put(h.name(), valueMatch(h));
    Map<String, StringMatch> query = new LinkedHashMap<>();
    for (GatewayRoute.ValueMatch q : m.queryParams()) query.put(q.name(), valueMatch(q));
    StringMatch method = m.method() == null ? null : new StringMatch(StringMatch.Kind.EXACT, m.method());
    VirtualService.HttpMatch match = new VirtualService.HttpMatch(name, uri, method, null, headers, Map.of(), query,
        e.port(), Map.of(), null, false);

    VirtualService.HeaderOperations request = null;
    VirtualService.HeaderOperations response = null;
    VirtualService.Redirect redirect = null;
    VirtualService.Rewrite rewrite = null;
    List<VirtualService.Mirror> mirrors = new ArrayList<>();
    VirtualService.CorsPolicy cors = null;
    String unusable = null;
    for (int i = 0; i < e.rule().filters().size(); i++) {
      Filter f = e.rule().filters().get(i);
      String where = e.where() + ".filters[" + i + "]";
      switch (f.type()) {
        case "RequestHeaderModifier" -> request = operations(f.headers());
        case "ResponseHeaderModifier" -> response = operations(f.headers());
        case "RequestRedirect" -> {
          redirect = redirect(f.redirect(), part);
          if (redirect == null) unusable = where + ": a redirect that replaces a path prefix is served only on "
              + "exact path matches by Weft; use ReplaceFullPath or an Exact path match";
        }
        case "URLRewrite" -> {
          rewrite = rewrite(f.rewrite(), part);
          if (rewrite == null) unusable = where + ": this path rewrite needs a path matched exactly or by prefix "
              + "(ReplaceFullPath with a prefix match is not served by Weft yet); the rule answers 500";
        }
        case "RequestMirror" -> {
          VirtualService.Destination d = destination(e.route(), f.mirror().backend(), where + ".requestMirror");
          if (d != null) mirrors.add(new VirtualService.Mirror(d, f.mirror().percent()));
        }
        case "CORS" -> cors = corsPolicy(f.cors());
        default -> unusable = where + ": filter type " + f.type() + " is not implemented by Weft; the rule answers "
            + NO_BACKEND_STATUS + " as the Gateway API asks for a filter it cannot honour";
      }
    }
    VirtualService.Headers routeHeaders = request == null && response == null ? null
        : new VirtualService.Headers(request, response);
    VirtualService.Retry retry = retry(e);
    if (unusable != null) {
      findings.warn(e.route().id(), e.where(), unusable);
      return status(name, match, NO_BACKEND_STATUS);
    }
    if (redirect != null) {
      return new VirtualService.HttpRoute(name, List.of(match), List.of(), null, null, null, null, redirect, null,
          null, routeHeaders, cors, List.of());
    }
    List<VirtualService.RouteDestination> destinations = destinations(e);
    if (destinations.isEmpty()) {
      return new VirtualService.HttpRoute(name, List.of(match), List.of(), null, null, null, null, null,
          new VirtualService.DirectResponse(NO_BACKEND_STATUS, null), null, routeHeaders, cors, List.of());
    }
    return new VirtualService.HttpRoute(name, List.of(match), destinations, e.rule().timeout(), retry, null, rewrite,
        null, null, null, routeHeaders, cors, mirrors);
  }

  /**
   * The rule's retry policy as Istio's gateway controller writes it: connection errors are always
   * retried once a {@code retry} is set, plus the listed status codes; attempts default to 2; the
   * backend timeout is the per-try timeout. Without {@code retry} the backend timeout alone is the
   * per-try timeout under the mesh's default retries. Istio's backoff has no field in Weft's retry
   * policy (Envoy's default, 25 ms, applies); it is reported.
   */
  private VirtualService.Retry retry(RouteMatchEntry e) {
    GatewayRoute.Retry r = e.rule().retry();
    if (r == null) {
      return e.rule().backendTimeout() == null ? null : new VirtualService.Retry(null, e.rule().backendTimeout(), null);
    }
    int attempts = r.attempts() == null ? 2 : r.attempts();
    StringBuilder on = new StringBuilder("connect-failure,refused-stream,unavailable,cancelled");
    for (int code : r.codes()) on.append(',').append(code);
    if (r.backoff() != null) {
      findings.warn(e.route().id(), e.where() + ".retry.backoff", "retry.backoff is not applied by Weft; Envoy's "
          + "default backoff (25 ms, doubling) is used");
    }
    return new VirtualService.Retry(attempts, e.rule().backendTimeout(), attempts == 0 ? null : on.toString());
  }

  /** A CORS filter as Istio's corsPolicy, converted the way Istio's gateway controller converts it. */
  static VirtualService.CorsPolicy corsPolicy(GatewayRoute.Cors c) {
    List<StringMatch> origins = new ArrayList<>();
    for (String o : c.allowOrigins()) {
      if (o.equals("*")) {
        // Any well-formed origin (scheme://host[:port]), not any string.
        origins.add(new StringMatch(StringMatch.Kind.REGEX, "^[a-zA-Z][a-zA-Z0-9+.-]*://[^/\\s?#]+$"));
      } else if (!o.contains("*")) {
        origins.add(new StringMatch(StringMatch.Kind.EXACT, o));
      } else if (o.indexOf('*') == o.length() - 1) {
        origins.add(new StringMatch(StringMatch.Kind.PREFIX, o.substring(0, o.length() - 1)));
      } else {
        StringBuilder regex = new StringBuilder("^");
        String[] parts = o.split("\\*", -1);
        for (int i = 0; i < parts.length; i++) {
          if (i > 0) regex.append(".*");
          for (char ch : parts[i].toCharArray()) {
            if ("\\.+*?()|[]{}^$".indexOf(ch) >= 0) regex.append('\\');
            regex.append(ch);
          }
        }
        origins.add(new StringMatch(StringMatch.Kind.REGEX, regex.append('$').toString()));
      }
    }
    return new VirtualService.CorsPolicy(origins, c.allowMethods(), c.allowHeaders(), c.exposeHeaders(),
        c.maxAge() == null ? null : java.time.Duration.ofSeconds(c.maxAge()), c.allowCredentials() ? Boolean.TRUE : null,
        "IGNORE");
  }

  private static VirtualService.HttpRoute status(String name, VirtualService.HttpMatch match, int status) {
    return new VirtualService.HttpRoute(name, List.of(match), List.of(), null, null, null, null, null,
        new VirtualService.DirectResponse(status, null), null, null, null, List.of());
  }

  /**
   * The backends with a share of traffic that may be used. A weight of 0 takes no traffic; a
   * backend of another kind, or in another namespace without a ReferenceGrant, is reported and
   * left out (the API's invalid backend). None left: the caller answers 500.
   */
  private List<VirtualService.RouteDestination> destinations(RouteMatchEntry e) {
    List<VirtualService.RouteDestination> out = new ArrayList<>();
    List<BackendRef> refs = e.rule().backendRefs();
    for (int i = 0; i < refs.size(); i++) {
      BackendRef b = refs.get(i);
      String where = e.where() + ".backendRefs[" + i + "]";
      VirtualService.Destination d = destination(e.route(), b, where);
      if (d == null || b.weight() == 0) continue;
      VirtualService.Headers headers = null;
      for (int j = 0; j < b.filters().size(); j++) {
        Filter f = b.filters().get(j);
        if (f.type().equals("RequestHeaderModifier")) {
          headers = new VirtualService.Headers(operations(f.headers()), headers == null ? null : headers.response());
        } else if (f.type().equals("ResponseHeaderModifier")) {
          headers = new VirtualService.Headers(headers == null ? null : headers.request(), operations(f.headers()));
        } else {
          findings.warn(e.route().id(), where + ".filters[" + j + "]", "filter type " + f.type() + " on a backend "
              + "is not implemented by Weft; it is ignored");
        }
      }
      out.add(new VirtualService.RouteDestination(d, b.weight(), headers));
    }
    if (out.size() == 1) {
      // One backend takes all traffic whatever its weight says (VirtualService's unset weight).
      VirtualService.RouteDestination only = out.get(0);
      out.set(0, new VirtualService.RouteDestination(only.destination(), 0, only.headers()));
    }
    return out;
  }

  /** The mesh host of a Service backend, or null (reported) when it cannot be used. */
  VirtualService.Destination destination(GatewayRoute route, BackendRef b, String where) {
    if (!b.group().isEmpty() || !b.kind().equals("Service")) {
      findings.warn(route.id(), where, "backend " + b.group() + (b.group().isEmpty() ? "" : "/") + b.kind() + " "
          + b.name() + " is not a kind Weft routes to (only core Services); its traffic share answers 500");
      return null;
    }
    if (!grants.allows(GatewayApiTranslation.GROUP, route.id().kind(), route.id().namespace(), "", "Service",
        b.namespace(), b.name())) {
      findings.warn(route.id(), where, "backend Service " + b.namespace() + "/" + b.name() + " is in another "
          + "namespace and no ReferenceGrant there allows " + route.id().kind() + "s from " + route.id().namespace()
          + " to refer to it (RefNotPermitted); add one in " + b.namespace() + " or move the route");
      return null;
    }
    return new VirtualService.Destination(b.name() + "." + b.namespace() + "." + domainSuffix, null, b.port());
  }

  private static StringMatch valueMatch(GatewayRoute.ValueMatch v) {
    return new StringMatch(v.regex() ? StringMatch.Kind.REGEX : StringMatch.Kind.EXACT, v.value());
  }

  private static VirtualService.HeaderOperations operations(GatewayRoute.HeaderModifier h) {
    return new VirtualService.HeaderOperations(h.set(), h.add(), h.remove());
  }

  /**
   * Gateway API's redirect: with a scheme and no port, the scheme's port; with neither, the
   * request's port (Istio's derivePort). Null when the path change cannot be expressed.
   */
  private static VirtualService.Redirect redirect(GatewayRoute.Redirect r, PathPart part) {
    String uri = null;
    if (r.path() != null) {
      if (r.path().type().equals("ReplaceFullPath") || part == PathPart.WHOLE) {
        uri = r.path().value();
      } else {
        return null;
      }
    }
    String derive = r.port() != 0 ? null : r.scheme() != null ? "FROM_PROTOCOL_DEFAULT" : "FROM_REQUEST_PORT";
    return new VirtualService.Redirect(uri, r.hostname(), r.port(), derive, r.scheme(), r.statusCode());
  }

  /**
   * A rewrite as VirtualService's prefix rewrite: the matched prefix is replaced. For a whole path
   * that is the path; below {@code PREFIX/} the separator stays ({@code /foo/x} with {@code /bar}
   * becomes {@code /bar/x}). Null when it cannot be expressed.
   */
  private static VirtualService.Rewrite rewrite(GatewayRoute.Rewrite r, PathPart part) {
    String uri = null;
    if (r.path() != null) {
      String value = r.path().value();
      boolean full = r.path().type().equals("ReplaceFullPath");
      uri = switch (part) {
        case WHOLE -> value;
        case BELOW -> full ? null : value.endsWith("/") ? value : value + "/";
        case ROOT -> full ? null : value.endsWith("/") ? value : value + "/";
        case REGEX -> null;
      };
      if (uri == null) return null;
    }
    return new VirtualService.Rewrite(uri, r.hostname());
  }
}
