package weft.model.parse;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import weft.model.StringMatch;
import weft.model.VirtualService.CorsPolicy;
import weft.model.VirtualService.Delegate;
import weft.model.VirtualService.Destination;
import weft.model.VirtualService.DirectResponse;
import weft.model.VirtualService.Fault;
import weft.model.VirtualService.Headers;
import weft.model.VirtualService.Mirror;
import weft.model.VirtualService.Redirect;
import weft.model.VirtualService.HttpMatch;
import weft.model.VirtualService.HttpRoute;
import weft.model.VirtualService.Retry;
import weft.model.VirtualService.Rewrite;
import weft.model.VirtualService.RouteDestination;

/** One {@code spec.http[]} entry of a VirtualService. */
final class HttpRouteParser {
  /** Envoy's retry-on policies that Istio accepts, besides HTTP status codes. */
  private static final Set<String> RETRY_ON = Set.of("5xx", "gateway-error", "reset", "reset-before-request",
      "connect-failure", "retriable-4xx", "refused-stream", "retriable-status-codes", "retriable-headers",
      "envoy-ratelimited", "http3-post-connect-failure", "cancelled", "deadline-exceeded", "internal",
      "resource-exhausted", "unavailable");
  private static final Set<String> GRPC_STATUS = Set.of("OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT",
      "DEADLINE_EXCEEDED", "NOT_FOUND", "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED",
      "FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE", "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS",
      "UNAUTHENTICATED");
  private static final String JWT_CLAIM_PREFIX = "@request.auth.claims.";

  private HttpRouteParser() {}

  /** A route of a VirtualService with hosts ({@code delegate} false) or of a host-less delegate one. */
  static HttpRoute read(Fields r, boolean inDelegate) {
    Report report = r.report();
    String name = r.string("name");
    boolean redirectSet = r.has("redirect");
    boolean directSet = r.has("directResponse");
    boolean delegateSet = r.has("delegate");
    List<HttpMatch> matches = new ArrayList<>();
    // Root and delegate matches are intersected when the delegation is resolved: Istio allows no regex there.
    for (Fields m : r.objects("match")) matches.add(match(m, inDelegate || delegateSet));
    List<RouteDestination> route = Destinations.read(r, "route", true);
    int actions = (route.isEmpty() ? 0 : 1) + (redirectSet ? 1 : 0) + (directSet ? 1 : 0) + (delegateSet ? 1 : 0);
    if (actions == 0 && !r.has("route")) {
      report.error(r.at("route"), r.path() + " has no route; add route with at least one destination (or "
          + "redirect, directResponse or delegate)");
    } else if (actions == 0) {
      report.error(r.at("route"), r.at("route") + " is empty; add at least one destination");
    } else if (actions > 1) {
      report.error(r.path(), r.path() + " sets more than one of route, redirect, directResponse and delegate; "
          + "keep one");
    }
    Duration timeout = r.duration("timeout", false);
    Retry retries = retries(r.object("retries"));
    Fault fault = fault(r.object("fault"));
    Rewrite rewrite = rewrite(r.object("rewrite"));
    if (redirectSet && fault != null) {
      report.error(r.at("fault"), r.path() + " sets both fault and redirect; keep one");
    }
    if (redirectSet && r.has("rewrite")) {
      report.error(r.at("rewrite"), r.path() + " sets both rewrite and redirect; keep one");
    }
    Redirect redirect = redirect(r.object("redirect"));
    DirectResponse directResponse = directResponse(r.object("directResponse"));
    Delegate delegate = delegate(r.object("delegate"), inDelegate);
    Headers headers = RouteHeaders.read(r.object("headers"));
    if (rewrite != null && rewrite.authority() != null && headers != null && RouteHeaders.setsAuthority(headers)) {
      report.error(r.at("headers"), r.path() + " sets the authority both in rewrite.authority and in headers; "
          + "keep one");
    }
    CorsPolicy cors = CorsPolicyParser.read(r.object("corsPolicy"));
    List<Mirror> mirrors = mirrors(r);
    r.rejectUnknown("HTTPRoute");
    proxylessLimits(r, rewrite != null, redirect != null, directResponse != null, headers != null
        || route.stream().anyMatch(d -> d.headers() != null), cors != null, !mirrors.isEmpty());
    return new HttpRoute(name, matches, route, timeout, retries, fault, rewrite, redirect, directResponse, delegate,
        headers, cors, mirrors);
  }

  /**
   * One warning per route setting that proxyless gRPC clients cannot act on (grpc-java 1.85 reads
   * neither header operations, rewrites, CORS nor mirrors, and has no redirect or direct-response
   * action). Envoy sidecars and gateways honour them all; the warning says what proxyless clients get.
   */
  private static void proxylessLimits(Fields r, boolean rewrite, boolean redirect, boolean direct, boolean headers,
      boolean cors, boolean mirror) {
    Report report = r.report();
    String ignored = " is honoured by Envoy sidecars and gateways; proxyless gRPC clients route these requests "
        + "without it";
    if (headers) report.warn(r.at("headers"), r.path() + ".headers" + ignored);
    if (rewrite) report.warn(r.at("rewrite"), r.at("rewrite") + ignored);
    if (cors) report.warn(r.at("corsPolicy"), r.at("corsPolicy") + ignored);
    if (mirror) {
      String field = r.has("mirrors") ? "mirrors" : "mirror";
      report.warn(r.at(field), r.at(field) + ignored + " (no copy is sent)");
    }
    if (redirect || direct) {
      String field = redirect ? "redirect" : "directResponse";
      report.warn(r.at(field), r.at(field) + " is honoured by Envoy sidecars and gateways; proxyless gRPC clients "
          + "get its HTTP status as an error instead (gRPC cannot follow a redirect or read a body)");
    }
  }

  /** Istio's validateHTTPRedirect: something to change, a 3xx code, scheme http or https. */
  private static Redirect redirect(Fields f) {
    if (!f.present()) return null;
    Report report = f.report();
    String uri = emptyToNull(f.string("uri"));
    String authority = emptyToNull(f.string("authority"));
    String scheme = emptyToNull(f.string("scheme"));
    boolean portSet = f.has("port");
    boolean deriveSet = f.has("derivePort");
    Integer port = f.port("port");
    String derive = f.enumOf("derivePort", List.of("FROM_PROTOCOL_DEFAULT", "FROM_REQUEST_PORT"), null);
    if (portSet && deriveSet) report.error(f.path(), f.path() + " sets both port and derivePort; keep one");
    Integer code = f.has("redirectCode") ? f.int32("redirectCode", 300, 399,
        "use a 3xx status such as 301, 302, 307 or 308") : null;
    if (scheme != null && !scheme.equals("http") && !scheme.equals("https")) {
      report.error(f.at("scheme"), f.at("scheme") + " is \"" + scheme + "\"; use http or https");
    }
    if (uri == null && authority == null && scheme == null && !portSet && !deriveSet) {
      report.error(f.path(), f.path() + " changes nothing; set uri, authority, scheme or port");
    }
    if (code != null && !Set.of(301, 302, 303, 307, 308).contains(code)) {
      report.warn(f.at("redirectCode"), f.at("redirectCode") + " is " + code + "; Envoy sends only 301, 302, 303, 307 "
          + "and 308, so this redirect answers 301");
    }
    f.rejectUnknown("HTTPRedirect");
    return new Redirect(uri, authority, port == null ? 0 : port, derive, scheme, code == null ? 301 : code);
  }

  /** Envoy's (and Istio's) bound on a direct response body. */
  private static final int MAX_BODY = 1 << 20;

  private static DirectResponse directResponse(Fields f) {
    if (!f.present()) return null;
    Report report = f.report();
    if (!f.has("status")) report.error(f.at("status"), f.at("status") + " is missing; set the HTTP status to send");
    Integer status = f.int32("status", 200, 599, "use an HTTP status from 200 to 599");
    byte[] body = null;
    Fields b = f.object("body");
    if (b.present()) {
      boolean string = b.has("string");
      boolean bytes = b.has("bytes");
      String text = b.string("string");
      String base64 = b.string("bytes");
      b.rejectUnknown("HTTPBody");
      if (string && bytes) {
        report.error(b.path(), b.path() + " sets both string and bytes; keep one");
      } else if (text != null) {
        body = text.getBytes(java.nio.charset.StandardCharsets.UTF_8);
      } else if (base64 != null) {
        try {
          body = java.util.Base64.getDecoder().decode(base64);
        } catch (IllegalArgumentException e) {
          report.error(b.at("bytes"), b.at("bytes") + " is not base64 (" + e.getMessage() + "); encode the body in "
              + "base64 or use string");
        }
      }
      if (body != null && body.length > MAX_BODY) {
        report.error(b.path(), b.path() + " is " + body.length + " bytes; a direct response body may have at most "
            + MAX_BODY + " bytes");
        body = null;
      }
    }
    f.rejectUnknown("HTTPDirectResponse");
    return new DirectResponse(status == null ? 200 : status, body);
  }

  private static Delegate delegate(Fields f, boolean inDelegate) {
    if (!f.present()) return null;
    Report report = f.report();
    if (inDelegate) {
      report.error(f.path(), f.path() + ": a delegate VirtualService cannot delegate again (Istio allows one level)");
    }
    String name = f.string("name");
    String namespace = emptyToNull(f.string("namespace"));
    if (name == null || name.isEmpty()) {
      report.error(f.at("name"), f.at("name") + " is missing; name the host-less VirtualService to delegate to");
    } else if (!Checks.isDnsSubdomain(name)) {
      report.error(f.at("name"), "delegate name " + Checks.quote(name) + " is not a valid resource name");
    }
    if (namespace != null && !Checks.isDnsLabel(namespace)) {
      report.error(f.at("namespace"), "delegate namespace " + Checks.quote(namespace) + " is not a valid namespace");
    }
    f.rejectUnknown("Delegate");
    return new Delegate(name == null ? "" : name, namespace);
  }

  /** {@code mirror} (one) and {@code mirrors} (several), with {@code mirrorPercentage} or the old {@code mirrorPercent}. */
  private static List<Mirror> mirrors(Fields r) {
    Report report = r.report();
    List<Mirror> out = new ArrayList<>();
    Double pct = null;
    Fields p = r.object("mirrorPercentage");
    if (p.present()) {
      pct = p.number("value");
      p.rejectUnknown("Percent");
      if (pct != null && (pct < 0 || pct > 100)) {
        report.error(p.at("value"), p.at("value") + " must be between 0 and 100, got " + pct);
        pct = null;
      }
      if (pct == null) pct = 0.0;
    }
    if (r.has("mirrorPercent")) {
      Integer old = r.int32("mirrorPercent", 0, 100, "use a percentage from 0 to 100");
      report.warn(r.at("mirrorPercent"), r.at("mirrorPercent") + " is deprecated; use mirrorPercentage.value");
      if (pct == null && old != null) pct = old.doubleValue();
    }
    if (r.has("mirror")) {
      Destination d = Destinations.destination(r.object("mirror"), r.at("mirror"));
      if (d != null) out.add(new Mirror(d, pct == null ? 100.0 : pct));
    } else if (pct != null) {
      report.warn(r.at("mirrorPercentage"), r.at("mirrorPercentage") + " is set without mirror; it has no effect");
    }
    for (Fields m : r.objects("mirrors")) {
      Destination d = Destinations.destination(m.object("destination"), m.at("destination"));
      Double each = 100.0;
      Fields mp = m.object("percentage");
      if (mp.present()) {
        each = mp.number("value");
        mp.rejectUnknown("Percent");
        if (each == null || each < 0 || each > 100) {
          if (each != null) report.error(mp.at("value"), mp.at("value") + " must be between 0 and 100, got " + each);
          each = 0.0;
        }
      }
      m.rejectUnknown("HTTPMirrorPolicy");
      if (d != null) out.add(new Mirror(d, each));
    }
    if (r.has("mirror") && !r.objects("mirrors").isEmpty()) {
      report.error(r.at("mirrors"), r.path() + " sets both mirror and mirrors; list every mirror under mirrors");
    }
    return out;
  }

  private static String emptyToNull(String s) {
    return s == null || s.isEmpty() ? null : s;
  }

  private static HttpMatch match(Fields m, boolean mergeable) {
    Report report = m.report();
    String name = m.string("name");
    StringMatch uri = m.has("uri") ? StringMatchParser.read(m.object("uri"), false) : null;
    StringMatch method = m.has("method") ? StringMatchParser.read(m.object("method"), false) : null;
    StringMatch authority = m.has("authority") ? StringMatchParser.read(m.object("authority"), false) : null;
    Map<String, StringMatch> headers = headers(m, "headers");
    Map<String, StringMatch> withoutHeaders = headers(m, "withoutHeaders");
    Map<String, StringMatch> queryParams = new LinkedHashMap<>();
    m.objectMap("queryParams").forEach((key, f) -> {
      StringMatch sm = StringMatchParser.read(f, true);
      if (sm != null) queryParams.put(key, sm);
    });
    Integer port = m.port("port");
    Map<String, String> sourceLabels = m.stringMap("sourceLabels");
    Checks.labels(report, m.at("sourceLabels"), sourceLabels);
    String sourceNamespace = m.string("sourceNamespace");
    if (sourceNamespace != null && !sourceNamespace.isEmpty() && !Checks.isIstioLabel(sourceNamespace)) {
      report.error(m.at("sourceNamespace"), "sourceNamespace \"" + sourceNamespace + "\" is not a valid namespace "
          + "name");
    }
    boolean ignoreUriCase = m.bool("ignoreUriCase", false);
    List<String> gateways = m.strings("gateways");
    VirtualServiceParser.checkGateways(m, gateways);
    if (mergeable) noRegexInDelegate(m, uri, method, authority, headers, withoutHeaders, queryParams);
    m.notImplemented("scheme", "statPrefix");
    m.rejectUnknown("HTTPMatchRequest");
    return new HttpMatch(name, uri, method, authority, headers, withoutHeaders, queryParams, port == null ? 0 : port,
        sourceLabels, sourceNamespace == null || sourceNamespace.isEmpty() ? null : sourceNamespace, ignoreUriCase,
        gateways);
  }

  /**
   * Istio's rule for delegate routes: their matches are merged with the root's, which regexes cannot be
   * (a regex cannot be intersected with a prefix).
   */
  private static void noRegexInDelegate(Fields m, StringMatch uri, StringMatch method, StringMatch authority,
      Map<String, StringMatch> headers, Map<String, StringMatch> withoutHeaders, Map<String, StringMatch> query) {
    Map<String, StringMatch> all = new LinkedHashMap<>();
    if (uri != null) all.put("uri", uri);
    if (method != null) all.put("method", method);
    if (authority != null) all.put("authority", authority);
    headers.forEach((k, v) -> all.put("headers." + k, v));
    withoutHeaders.forEach((k, v) -> all.put("withoutHeaders." + k, v));
    query.forEach((k, v) -> all.put("queryParams." + k, v));
    all.forEach((field, v) -> {
      if (v.kind() == StringMatch.Kind.REGEX && v != StringMatchParser.PRESENT) {
        m.report().error(m.child(field), m.child(field) + " is a regex match in a delegating route; "
            + "root and delegate matches are merged and must use exact or prefix");
      }
    });
  }

  /** Header matches keyed by lower-case name (HTTP header names are case-insensitive). */
  private static Map<String, StringMatch> headers(Fields m, String field) {
    Map<String, StringMatch> out = new LinkedHashMap<>();
    m.objectMap(field).forEach((header, f) -> {
      boolean claim = header.startsWith(JWT_CLAIM_PREFIX);
      if (!claim && !Checks.isHttpHeaderName(header)) {
        m.report().error(f.path(), "header name \"" + header + "\" is invalid; use letters, digits, '-' and '_'");
        return;
      }
      String key = claim ? header : header.toLowerCase(Locale.ROOT);
      StringMatch sm = StringMatchParser.read(f, true);
      if (out.containsKey(key)) {
        m.report().error(f.path(), "header " + key + " is matched twice (header names ignore case); keep one");
      } else if (sm != null) {
        out.put(key, sm);
      }
    });
    return out;
  }

  private static Retry retries(Fields r) {
    if (!r.present()) return null;
    Report report = r.report();
    Integer attempts = r.int32("attempts", 0, Integer.MAX_VALUE, "use 0 (no retries) or a positive count");
    Duration perTryTimeout = r.duration("perTryTimeout", true);
    String retryOn = r.string("retryOn");
    if (retryOn != null) {
      for (String policy : retryOn.split(",", -1)) {
        if (!RETRY_ON.contains(policy) && !isHttpStatus(policy)) {
          report.error(r.at("retryOn"), "\"" + policy + "\" in retryOn is not a retry policy; use values such as "
              + "5xx, gateway-error, connect-failure, refused-stream, reset, retriable-4xx, unavailable or an HTTP "
              + "status code, separated by commas without spaces");
        }
      }
    }
    boolean remoteLocalities = r.has("retryRemoteLocalities");
    if ((attempts == null || attempts == 0) && (perTryTimeout != null || retryOn != null || remoteLocalities)
        && !(r.has("attempts") && attempts == null)) {
      report.error(r.at("attempts"), "retries sets perTryTimeout/retryOn but attempts is " + (attempts == null
          ? "unset" : "0") + ", which disables retries; set attempts or remove the other retry settings");
    }
    r.notImplemented("retryRemoteLocalities", "retryIgnorePreviousHosts", "backoff");
    r.rejectUnknown("HTTPRetry");
    return new Retry(attempts, perTryTimeout, retryOn);
  }

  private static boolean isHttpStatus(String s) {
    if (s.length() != 3 || !s.chars().allMatch(Character::isDigit)) return false;
    int code = Integer.parseInt(s);
    return code >= 100 && code <= 599;
  }

  private static Fault fault(Fields f) {
    if (!f.present()) return null;
    Fields delayFields = f.object("delay");
    Fields abortFields = f.object("abort");
    if (!delayFields.present() && !abortFields.present()) {
      f.report().error(f.path(), f.path() + " sets neither delay nor abort; add one or remove fault");
    }
    Fault.Delay delay = delay(delayFields);
    Fault.Abort abort = abort(abortFields);
    f.rejectUnknown("HTTPFaultInjection");
    return new Fault(delay, abort);
  }

  private static Fault.Delay delay(Fields d) {
    if (!d.present()) return null;
    Report report = d.report();
    Double percentage = percentage(d);
    if (d.has("percent")) {
      Integer percent = d.percent("percent");
      report.warn(d.at("percent"), d.at("percent") + " is deprecated in Istio; use percentage.value");
      if (percentage == null && percent != null) percentage = percent.doubleValue();
    }
    boolean fixed = d.has("fixedDelay");
    boolean exponential = d.has("exponentialDelay");
    Duration fixedDelay = d.duration("fixedDelay", true);
    if (fixed && exponential) {
      report.error(d.path(), d.path() + " sets both fixedDelay and exponentialDelay; keep one");
    } else if (!fixed && !exponential) {
      report.error(d.at("fixedDelay"), d.at("fixedDelay") + " is missing; a delay needs fixedDelay, e.g. 5s");
    }
    d.notImplemented("exponentialDelay");
    d.rejectUnknown("HTTPFaultInjection.Delay");
    return fixed ? new Fault.Delay(fixedDelay, percentage) : null;
  }

  private static Fault.Abort abort(Fields a) {
    if (!a.present()) return null;
    Report report = a.report();
    Double percentage = percentage(a);
    int kinds = (a.has("httpStatus") ? 1 : 0) + (a.has("grpcStatus") ? 1 : 0) + (a.has("http2Error") ? 1 : 0);
    Integer httpStatus = a.int32("httpStatus", 200, 599, "use an HTTP status from 200 to 599");
    String grpcStatus = a.string("grpcStatus");
    if (grpcStatus != null && !GRPC_STATUS.contains(grpcStatus)) {
      report.error(a.at("grpcStatus"), "\"" + grpcStatus + "\" is not a gRPC status name; use one such as "
          + "UNAVAILABLE, NOT_FOUND or INTERNAL");
    }
    if (a.has("http2Error")) {
      a.take("http2Error");
      report.error(a.at("http2Error"), a.at("http2Error") + " is not supported by Istio yet; use httpStatus or "
          + "grpcStatus");
    }
    if (kinds == 0) {
      report.error(a.path(), a.path() + " needs httpStatus or grpcStatus; add one, e.g. httpStatus: 503");
    } else if (kinds > 1) {
      report.error(a.path(), a.path() + " sets more than one of httpStatus, grpcStatus and http2Error; keep one");
    }
    a.rejectUnknown("HTTPFaultInjection.Abort");
    return new Fault.Abort(httpStatus == null ? 0 : httpStatus, grpcStatus, percentage);
  }

  /** {@code percentage: {value: 0..100}}; null when unset (Istio then applies the fault to all requests). */
  private static Double percentage(Fields parent) {
    Fields p = parent.object("percentage");
    if (!p.present()) return null;
    Double value = p.number("value");
    p.rejectUnknown("Percent");
    if (value != null && (value < 0 || value > 100)) {
      p.report().error(p.at("value"), p.at("value") + " must be between 0 and 100, got " + value + "; use a "
          + "percentage");
      return null;
    }
    return value == null ? 0.0 : value;
  }

  private static Rewrite rewrite(Fields r) {
    if (!r.present()) return null;
    String uri = r.string("uri");
    String authority = r.string("authority");
    boolean regex = r.has("uriRegexRewrite");
    if (uri != null && !uri.isEmpty() && regex) {
      r.report().error(r.path(), r.path() + " sets both uri and uriRegexRewrite; keep one");
    }
    if ((uri == null || uri.isEmpty()) && (authority == null || authority.isEmpty()) && !regex) {
      r.report().error(r.path(), r.path() + " sets neither uri nor authority; add one or remove rewrite");
    }
    r.notImplemented("uriRegexRewrite");
    r.rejectUnknown("HTTPRewrite");
    return new Rewrite(uri == null || uri.isEmpty() ? null : uri, authority == null || authority.isEmpty() ? null
        : authority);
  }
}
