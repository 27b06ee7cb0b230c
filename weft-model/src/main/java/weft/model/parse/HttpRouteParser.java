package weft.model.parse;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import weft.model.StringMatch;
import weft.model.VirtualService.Fault;
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

  static HttpRoute read(Fields r) {
    Report report = r.report();
    String name = r.string("name");
    List<HttpMatch> matches = new ArrayList<>();
    for (Fields m : r.objects("match")) matches.add(match(m));
    List<RouteDestination> route = Destinations.read(r, "route", true);
    boolean redirect = r.has("redirect");
    boolean directResponse = r.has("directResponse");
    boolean delegate = r.has("delegate");
    if (route.isEmpty() && !redirect && !directResponse && !delegate) {
      report.error(r.at("route"), r.path() + " has no route; add route with at least one destination");
    }
    if (!route.isEmpty() && (redirect || directResponse || delegate)) {
      report.error(r.at("route"), r.path() + " sets route together with "
          + (redirect ? "redirect" : directResponse ? "directResponse" : "delegate") + "; keep one of them");
    }
    Duration timeout = r.duration("timeout", false);
    Retry retries = retries(r.object("retries"));
    Fault fault = fault(r.object("fault"));
    Rewrite rewrite = rewrite(r.object("rewrite"));
    r.notImplemented("redirect", "directResponse", "delegate", "mirror", "mirrors", "mirrorPercent",
        "mirrorPercentage", "corsPolicy", "headers");
    r.rejectUnknown("HTTPRoute");
    return new HttpRoute(name, matches, route, timeout, retries, fault, rewrite);
  }

  private static HttpMatch match(Fields m) {
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
    if (sourceNamespace != null && !sourceNamespace.isEmpty() && !Checks.isDnsLabel(sourceNamespace)) {
      report.error(m.at("sourceNamespace"), "sourceNamespace \"" + sourceNamespace + "\" is not a valid namespace "
          + "name");
    }
    boolean ignoreUriCase = m.bool("ignoreUriCase", false);
    List<String> gateways = m.strings("gateways");
    VirtualServiceParser.checkGateways(m, gateways);
    m.notImplemented("scheme", "statPrefix");
    m.rejectUnknown("HTTPMatchRequest");
    return new HttpMatch(name, uri, method, authority, headers, withoutHeaders, queryParams, port == null ? 0 : port,
        sourceLabels, sourceNamespace == null || sourceNamespace.isEmpty() ? null : sourceNamespace, ignoreUriCase,
        gateways);
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
