package weft.model.parse;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import weft.model.ExtAuthzProvider;

/**
 * MeshConfig {@code extensionProviders} of kinds {@code envoyExtAuthzHttp} and
 * {@code envoyExtAuthzGrpc}, checked field by field as Istio's validation does: a service and a port
 * are required, header names are header names (with Istio's {@code *} prefix/suffix wildcards),
 * {@code statusOnError} is an HTTP status. Telemetry providers are read by {@link MeshTelemetryParser}.
 */
final class ExtAuthzProviderParser {
  private static final String HTTP = "envoyExtAuthzHttp";
  private static final String GRPC = "envoyExtAuthzGrpc";
  /** An RFC 7230 token, optionally with one leading or trailing {@code *} (Istio's header patterns). */
  private static final Pattern HEADER_PATTERN = Pattern.compile("\\*?[A-Za-z0-9!#$%&'+\\-.^_`|~]+\\*?|\\*");
  private static final Pattern SERVICE = Pattern.compile(
      "([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?/)?[A-Za-z0-9*]([-A-Za-z0-9.*]{0,251}[A-Za-z0-9])?");
  private static final int MAX_HEADERS = 64;

  private ExtAuthzProviderParser() {}

  static List<ExtAuthzProvider> read(Fields mesh) {
    List<ExtAuthzProvider> out = new ArrayList<>();
    for (Fields p : mesh.objects("extensionProviders")) {
      boolean http = p.has(HTTP);
      boolean grpc = p.has(GRPC);
      if (!http && !grpc) {
        p.drainUnread(); // a telemetry provider: MeshTelemetryParser reads and checks it
        continue;
      }
      String name = p.string("name", "");
      if (http && grpc) {
        p.report().error(p.path(), p.path() + " defines both " + HTTP + " and " + GRPC + "; a provider is one kind");
        p.drainUnread();
        continue;
      }
      ExtAuthzProvider provider = provider(name, grpc, p.object(grpc ? GRPC : HTTP));
      p.drainUnread();
      if (name.isEmpty()) {
        p.report().error(p.at("name"), p.at("name") + " is missing; every extension provider needs a name, which "
            + "CUSTOM AuthorizationPolicies give as provider.name");
        continue;
      }
      if (out.stream().anyMatch(q -> q.name().equalsIgnoreCase(name))) {
        p.report().error(p.at("name"), "extension provider name " + Checks.quote(name) + " is used twice; names must "
            + "be unique (ignoring case)");
        continue;
      }
      if (provider != null) out.add(provider);
    }
    return out;
  }

  private static ExtAuthzProvider provider(String name, boolean grpc, Fields f) {
    Report report = f.report();
    int errors = report.errorCount();
    String service = f.string("service");
    if (service == null || service.isEmpty()) {
      report.error(f.at("service"), f.at("service") + " is required: the authorization service as "
          + "[NAMESPACE/]HOSTNAME, e.g. foo/ext-authz.foo.svc.cluster.local");
    } else if (!SERVICE.matcher(service).matches()) {
      report.error(f.at("service"), f.at("service") + " " + Checks.quote(service) + " is not [NAMESPACE/]HOSTNAME");
    }
    Integer port = f.port("port");
    if (port == null && !f.has("port")) {
      report.error(f.at("port"), f.at("port") + " is required: the authorization service's port");
    }
    Duration timeout = f.duration("timeout", true);
    boolean failOpen = f.bool("failOpen", false);
    Integer status = f.int32("statusOnError", 100, 599, "use an HTTP status code such as 403 or 503");
    String pathPrefix = null;
    List<String> requestHeaders = List.of();
    Map<String, String> additional = Map.of();
    List<String> upstreamOnAllow = List.of();
    List<String> downstreamOnDeny = List.of();
    List<String> downstreamOnAllow = List.of();
    if (!grpc) {
      pathPrefix = f.string("pathPrefix");
      if (pathPrefix != null && !pathPrefix.startsWith("/")) {
        report.error(f.at("pathPrefix"), f.at("pathPrefix") + " " + Checks.quote(pathPrefix) + " must start with /");
      }
      requestHeaders = headers(f, f.has("includeRequestHeadersInCheck") ? "includeRequestHeadersInCheck"
          : "includeHeadersInCheck");
      if (f.has("includeRequestHeadersInCheck")) f.ignore("includeHeadersInCheck");
      additional = f.stringMap("includeAdditionalHeadersInCheck");
      for (String h : additional.keySet()) checkHeader(f, "includeAdditionalHeadersInCheck", h, false);
      upstreamOnAllow = headers(f, "headersToUpstreamOnAllow");
      downstreamOnDeny = headers(f, "headersToDownstreamOnDeny");
      downstreamOnAllow = headers(f, "headersToDownstreamOnAllow");
    }
    ExtAuthzProvider.Body body = null;
    if (f.has("includeRequestBodyInCheck")) {
      Fields b = f.object("includeRequestBodyInCheck");
      Integer max = b.int32("maxRequestBytes", 0, Integer.MAX_VALUE, "use a number of bytes");
      body = new ExtAuthzProvider.Body(max == null ? 0 : max, b.bool("allowPartialMessage", false),
          b.bool("packAsBytes", false));
      b.rejectUnknown("MeshConfig.ExtensionProvider.EnvoyExternalAuthorizationRequestBody");
    }
    f.rejectUnknown(grpc ? "MeshConfig.ExtensionProvider.EnvoyExternalAuthorizationGrpcProvider"
        : "MeshConfig.ExtensionProvider.EnvoyExternalAuthorizationHttpProvider");
    if (report.errorCount() > errors || service == null || port == null) return null;
    return new ExtAuthzProvider(name, grpc, service, port, timeout == null ? ExtAuthzProvider.DEFAULT_TIMEOUT : timeout,
        failOpen, status == null ? ExtAuthzProvider.DEFAULT_STATUS_ON_ERROR : status, pathPrefix, requestHeaders,
        additional, upstreamOnAllow, downstreamOnDeny, downstreamOnAllow, body);
  }

  private static List<String> headers(Fields f, String field) {
    List<String> names = f.strings(field);
    if (names.size() > MAX_HEADERS) {
      f.report().error(f.at(field), f.at(field) + " has " + names.size() + " entries; at most " + MAX_HEADERS);
      return List.of();
    }
    for (String h : names) checkHeader(f, field, h, true);
    return names;
  }

  private static void checkHeader(Fields f, String field, String h, boolean wildcards) {
    boolean ok = wildcards ? HEADER_PATTERN.matcher(h).matches()
        : HEADER_PATTERN.matcher(h).matches() && !h.contains("*");
    if (!ok) {
      f.report().error(f.at(field), f.at(field) + " " + Checks.quote(h) + " is not a header name"
          + (wildcards ? " (one * at the start or the end is allowed)" : ""));
    }
  }
}
