package weft.xds.envoygen;

import com.google.protobuf.BoolValue;
import com.google.protobuf.ByteString;
import io.envoyproxy.envoy.config.core.v3.DataSource;
import io.envoyproxy.envoy.config.core.v3.HeaderValue;
import io.envoyproxy.envoy.config.core.v3.HeaderValueOption;
import io.envoyproxy.envoy.config.core.v3.RuntimeFractionalPercent;
import io.envoyproxy.envoy.config.route.v3.DirectResponseAction;
import io.envoyproxy.envoy.config.route.v3.RedirectAction;
import io.envoyproxy.envoy.config.route.v3.Route;
import io.envoyproxy.envoy.config.route.v3.RouteAction;
import io.envoyproxy.envoy.config.route.v3.WeightedCluster;
import io.envoyproxy.envoy.extensions.filters.http.cors.v3.CorsPolicy;
import io.envoyproxy.envoy.type.matcher.v3.RegexMatcher;
import io.envoyproxy.envoy.type.matcher.v3.StringMatcher;
import java.util.Locale;
import java.util.Map;
import weft.model.StringMatch;
import weft.model.VirtualService;
import weft.model.VirtualService.HeaderOperations;
import weft.model.VirtualService.Headers;

/**
 * The parts of an HTTP route besides matching and forwarding, as Istio's route package builds them:
 * redirects, direct responses, header operations, CORS and mirroring.
 */
final class RouteActions {
  private RouteActions() {}

  /** Istio's translation of HTTPRedirect; a FROM_REQUEST_PORT redirect keeps the listener's port. */
  static RedirectAction redirect(VirtualService.Redirect r, int listenPort) {
    RedirectAction.Builder b = RedirectAction.newBuilder().setResponseCode(code(r.code()));
    if (r.uri() != null) b.setPathRedirect(r.uri());
    if (r.authority() != null) b.setHostRedirect(r.authority());
    if (r.scheme() != null) b.setSchemeRedirect(r.scheme());
    if (r.port() != 0) {
      b.setPortRedirect(r.port());
    } else if ("FROM_REQUEST_PORT".equals(r.derivePort())) {
      b.setPortRedirect(listenPort);
    }
    return b.build();
  }

  /** The redirect codes Envoy can send; the parser warns about any other 3xx, which is sent as 301. */
  private static RedirectAction.RedirectResponseCode code(int code) {
    return switch (code) {
      case 302 -> RedirectAction.RedirectResponseCode.FOUND;
      case 303 -> RedirectAction.RedirectResponseCode.SEE_OTHER;
      case 307 -> RedirectAction.RedirectResponseCode.TEMPORARY_REDIRECT;
      case 308 -> RedirectAction.RedirectResponseCode.PERMANENT_REDIRECT;
      default -> RedirectAction.RedirectResponseCode.MOVED_PERMANENTLY;
    };
  }

  static DirectResponseAction directResponse(VirtualService.DirectResponse d) {
    DirectResponseAction.Builder b = DirectResponseAction.newBuilder().setStatus(d.status());
    byte[] body = d.body();
    if (body != null) b.setBody(DataSource.newBuilder().setInlineBytes(ByteString.copyFrom(body)));
    return b.build();
  }

  /** Route-level header operations; an authority set on requests becomes a host rewrite (Istio's rule). */
  static void headers(Route.Builder route, RouteAction.Builder action, Headers h) {
    if (h == null) return;
    HeaderOperations req = h.request();
    if (req != null) {
      for (Map.Entry<String, String> e : req.set().entrySet()) {
        if (isAuthority(e.getKey())) {
          if (action != null) action.setHostRewriteLiteral(e.getValue());
        } else {
          route.addRequestHeadersToAdd(option(e.getKey(), e.getValue(), true));
        }
      }
      for (Map.Entry<String, String> e : req.add().entrySet()) {
        if (isAuthority(e.getKey())) {
          if (action != null) action.setHostRewriteLiteral(e.getValue());
        } else {
          route.addRequestHeadersToAdd(option(e.getKey(), e.getValue(), false));
        }
      }
      route.addAllRequestHeadersToRemove(req.remove());
    }
    HeaderOperations resp = h.response();
    if (resp != null) {
      resp.set().forEach((k, v) -> route.addResponseHeadersToAdd(option(k, v, true)));
      resp.add().forEach((k, v) -> route.addResponseHeadersToAdd(option(k, v, false)));
      route.addAllResponseHeadersToRemove(resp.remove());
    }
  }

  /** A weighted destination's own header operations. */
  static void headers(WeightedCluster.ClusterWeight.Builder cw, Headers h) {
    if (h == null) return;
    HeaderOperations req = h.request();
    if (req != null) {
      req.set().forEach((k, v) -> {
        if (isAuthority(k)) cw.setHostRewriteLiteral(v); else cw.addRequestHeadersToAdd(option(k, v, true));
      });
      req.add().forEach((k, v) -> {
        if (isAuthority(k)) cw.setHostRewriteLiteral(v); else cw.addRequestHeadersToAdd(option(k, v, false));
      });
      cw.addAllRequestHeadersToRemove(req.remove());
    }
    HeaderOperations resp = h.response();
    if (resp != null) {
      resp.set().forEach((k, v) -> cw.addResponseHeadersToAdd(option(k, v, true)));
      resp.add().forEach((k, v) -> cw.addResponseHeadersToAdd(option(k, v, false)));
      cw.addAllResponseHeadersToRemove(resp.remove());
    }
  }

  private static boolean isAuthority(String name) {
    String n = name.toLowerCase(Locale.ROOT);
    return n.equals(":authority") || n.equals("host");
  }

  private static HeaderValueOption option(String name, String value, boolean overwrite) {
    return HeaderValueOption.newBuilder()
        .setHeader(HeaderValue.newBuilder().setKey(name).setValue(value))
        .setAppendAction(overwrite ? HeaderValueOption.HeaderAppendAction.OVERWRITE_IF_EXISTS_OR_ADD
            : HeaderValueOption.HeaderAppendAction.APPEND_IF_EXISTS_OR_ADD)
        .build();
  }

  /** Istio's CORS translation: a per-route policy for the HCM's CORS filter, always enabled. */
  static CorsPolicy cors(VirtualService.CorsPolicy c) {
    CorsPolicy.Builder b = CorsPolicy.newBuilder()
        .setFilterEnabled(RuntimeFractionalPercent.newBuilder().setDefaultValue(Protos.percent(100.0)));
    for (StringMatch o : c.allowOrigins()) b.addAllowOriginStringMatch(matcher(o));
    if (!c.allowMethods().isEmpty()) b.setAllowMethods(String.join(",", c.allowMethods()));
    if (!c.allowHeaders().isEmpty()) b.setAllowHeaders(String.join(",", c.allowHeaders()));
    if (!c.exposeHeaders().isEmpty()) b.setExposeHeaders(String.join(",", c.exposeHeaders()));
    if (c.maxAge() != null) b.setMaxAge(Long.toString(c.maxAge().getSeconds()));
    if (c.allowCredentials() != null) b.setAllowCredentials(BoolValue.of(c.allowCredentials()));
    if (c.unmatchedPreflights() != null) {
      b.setForwardNotMatchingPreflights(BoolValue.of(c.unmatchedPreflights().equals("FORWARD")));
    }
    return b.build();
  }

  private static StringMatcher matcher(StringMatch m) {
    StringMatcher.Builder sm = StringMatcher.newBuilder();
    switch (m.kind()) {
      case EXACT -> sm.setExact(m.value());
      case PREFIX -> sm.setPrefix(m.value());
      case REGEX -> sm.setSafeRegex(RegexMatcher.newBuilder().setRegex(m.value()));
    }
    return sm.build();
  }

  /** A mirror of the given share of requests (Istio's percentage, in millionths as Envoy counts). */
  static RouteAction.RequestMirrorPolicy mirror(String cluster, double percentage) {
    return RouteAction.RequestMirrorPolicy.newBuilder().setCluster(cluster)
        .setRuntimeFraction(RuntimeFractionalPercent.newBuilder().setDefaultValue(Protos.percent(percentage)))
        // Istio does not let mirrored requests decide tracing: the original request's decision stands.
        .setTraceSampled(BoolValue.of(false))
        .build();
  }
}
