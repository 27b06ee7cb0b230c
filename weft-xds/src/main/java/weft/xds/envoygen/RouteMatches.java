package weft.xds.envoygen;

import com.google.protobuf.BoolValue;
import io.envoyproxy.envoy.config.route.v3.HeaderMatcher;
import io.envoyproxy.envoy.config.route.v3.QueryParameterMatcher;
import io.envoyproxy.envoy.config.route.v3.Route;
import io.envoyproxy.envoy.config.route.v3.RouteMatch;
import io.envoyproxy.envoy.type.matcher.v3.RegexMatcher;
import io.envoyproxy.envoy.type.matcher.v3.StringMatcher;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import weft.model.StringMatch;
import weft.model.VirtualService.HttpMatch;

/** VirtualService match conditions to Envoy route matches, as Istio's TranslateRouteMatch does. */
final class RouteMatches {
  private RouteMatches() {}

  /** Istio's TranslateRouteMatch: headers sorted by name, then method and authority; query parameters by name. */
  static RouteMatch of(HttpMatch m) {
    RouteMatch.Builder b = RouteMatch.newBuilder().setPrefix("/");
    if (m == null) return b.build();
    List<HeaderMatcher> headers = new ArrayList<>();
    for (Map.Entry<String, StringMatch> h : m.headers().entrySet()) headers.add(header(h.getKey(), h.getValue(), false));
    for (Map.Entry<String, StringMatch> h : m.withoutHeaders().entrySet()) headers.add(header(h.getKey(), h.getValue(), true));
    headers.sort(java.util.Comparator.comparing(HeaderMatcher::getName).thenComparing(HeaderMatcher::getInvertMatch));
    b.addAllHeaders(headers);
    if (m.uri() != null) {
      switch (m.uri().kind()) {
        case EXACT -> b.setPath(m.uri().value());
        case PREFIX -> b.setPrefix(m.uri().value());
        case REGEX -> b.setSafeRegex(RegexMatcher.newBuilder().setRegex(m.uri().value()));
      }
    }
    b.setCaseSensitive(BoolValue.of(!m.ignoreUriCase()));
    if (m.method() != null) b.addHeaders(header(":method", m.method(), false));
    if (m.authority() != null) b.addHeaders(header(":authority", m.authority(), false));
    for (Map.Entry<String, StringMatch> q : new TreeMap<>(m.queryParams()).entrySet()) {
      QueryParameterMatcher.Builder qm = QueryParameterMatcher.newBuilder().setName(q.getKey());
      if (isPresentMatch(q.getValue())) {
        qm.setPresentMatch(true);
      } else {
        qm.setStringMatch(stringMatcher(q.getValue()));
      }
      b.addQueryParameters(qm);
    }
    return b.build();
  }

  private static HeaderMatcher header(String name, StringMatch match, boolean invert) {
    HeaderMatcher.Builder h = HeaderMatcher.newBuilder().setName(name).setInvertMatch(invert);
    if (isPresentMatch(match)) {
      h.setPresentMatch(true);
    } else {
      h.setStringMatch(stringMatcher(match));
      // A request without the header must match "header is not X" (Istio's TreatMissingHeaderAsEmpty).
      if (invert) h.setTreatMissingHeaderAsEmpty(true);
    }
    return h.build();
  }

  /** Istio reads regex {@code *} (not valid RE2) as "header present". */
  private static boolean isPresentMatch(StringMatch m) {
    return m == null || (m.kind() == StringMatch.Kind.REGEX && m.value().equals("*"));
  }

  private static StringMatcher stringMatcher(StringMatch m) {
    StringMatcher.Builder sm = StringMatcher.newBuilder();
    switch (m.kind()) {
      case EXACT -> sm.setExact(m.value());
      case PREFIX -> sm.setPrefix(m.value());
      case REGEX -> sm.setSafeRegex(RegexMatcher.newBuilder().setRegex(m.value()));
    }
    return sm.build();
  }

  /** A route that matches every request: Envoy never looks past it. */
  static boolean isCatchAll(Route r) {
    RouteMatch m = r.getMatch();
    boolean all = switch (m.getPathSpecifierCase()) {
      case PREFIX -> m.getPrefix().equals("/");
      case PATH_SEPARATED_PREFIX -> m.getPathSeparatedPrefix().equals("/");
      case SAFE_REGEX -> m.getSafeRegex().getRegex().equals(".*");
      default -> false;
    };
    return all && m.getHeadersCount() == 0 && m.getQueryParametersCount() == 0 && m.getDynamicMetadataCount() == 0;
  }
}
