package weft.model;

import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * A Gateway API route: HTTPRoute and GRPCRoute ({@code gateway.networking.k8s.io/v1}), TCPRoute and
 * TLSRoute ({@code v1alpha2}); {@code id().kind()} says which. Parsed as written, with the API's
 * defaults filled in; what it attaches to and what it routes to is decided with every other
 * Gateway API object in view (weft.model.gatewayapi).
 *
 * @param creationTimestamp {@code metadata.creationTimestamp} as written, "" when unset (the oldest
 *     route wins a tie of match precedence)
 */
public record GatewayRoute(ResourceId id, String creationTimestamp, List<ParentRef> parentRefs,
    List<String> hostnames, List<Rule> rules) implements Resource {
  public static final String HTTP = "HTTPRoute";
  public static final String GRPC = "GRPCRoute";
  public static final String TCP = "TCPRoute";
  public static final String TLS = "TLSRoute";

  public GatewayRoute {
    creationTimestamp = creationTimestamp == null ? "" : creationTimestamp;
    parentRefs = List.copyOf(parentRefs);
    hostnames = List.copyOf(hostnames);
    rules = List.copyOf(rules);
  }

  /**
   * What the route attaches to: a Gateway (group {@code gateway.networking.k8s.io}) or, for mesh
   * routes (GAMMA), a Service (group ""). {@code sectionName} null and {@code port} 0 when unset.
   */
  public record ParentRef(String group, String kind, String namespace, String name, String sectionName, int port) {}

  /**
   * One rule. {@code matches} is never empty for HTTP and gRPC routes (the API's default is filled
   * in) and empty for TCP and TLS routes. {@code timeout}, {@code backendTimeout} and {@code retry}
   * are null when unset.
   */
  public record Rule(String name, List<Match> matches, List<Filter> filters, List<BackendRef> backendRefs,
      Duration timeout, Duration backendTimeout, Retry retry) {
    public Rule {
      matches = List.copyOf(matches);
      filters = List.copyOf(filters);
      backendRefs = List.copyOf(backendRefs);
    }

    /** A rule without retry. */
    public Rule(String name, List<Match> matches, List<Filter> filters, List<BackendRef> backendRefs,
        Duration timeout, Duration backendTimeout) {
      this(name, matches, filters, backendRefs, timeout, backendTimeout, null);
    }
  }

  /**
   * An HTTPRoute rule's {@code retry}: HTTP status {@code codes} to retry besides connection errors,
   * {@code attempts} (null when unset) and {@code backoff} (null when unset).
   */
  public record Retry(List<Integer> codes, Integer attempts, Duration backoff) {
    public Retry {
      codes = List.copyOf(codes);
    }
  }

  /**
   * A CORS filter as written: origins (exact, {@code *}, or with {@code *} wildcards), methods,
   * headers, {@code maxAge} in seconds (null when unset) and {@code allowCredentials}.
   */
  public record Cors(List<String> allowOrigins, List<String> allowMethods, List<String> allowHeaders,
      List<String> exposeHeaders, Integer maxAge, boolean allowCredentials) {
    public Cors {
      allowOrigins = List.copyOf(allowOrigins);
      allowMethods = List.copyOf(allowMethods);
      allowHeaders = List.copyOf(allowHeaders);
      exposeHeaders = List.copyOf(exposeHeaders);
    }
  }

  /**
   * One match; all set parts must hold. HTTP: {@code path} (never null), {@code method} (null when
   * unset). gRPC: {@code grpc} (null matches every method), {@code path} null.
   */
  public record Match(PathMatch path, List<ValueMatch> headers, List<ValueMatch> queryParams, String method,
      GrpcMethod grpc) {
    public Match {
      headers = List.copyOf(headers);
      queryParams = List.copyOf(queryParams);
    }
  }

  /** {@code type} is {@code Exact}, {@code PathPrefix} or {@code RegularExpression}. */
  public record PathMatch(String type, String value) {}

  /** A header or query parameter match: exact, or a regular expression. */
  public record ValueMatch(String name, boolean regex, String value) {}

  /** A gRPC method match; {@code service} and {@code method} are null when unset (not both). */
  public record GrpcMethod(boolean regex, String service, String method) {}

  /**
   * A backend with its share; {@code namespace} resolved. {@code port} 0 when unset (only allowed for
   * kinds other than Service, which Weft does not route to). {@code weight} 0..1,000,000.
   */
  public record BackendRef(String group, String kind, String namespace, String name, int port, int weight,
      List<Filter> filters) {
    public BackendRef {
      filters = List.copyOf(filters);
    }
  }

  /**
   * One filter: exactly the part of {@code type} is set ({@code headers} for the two header
   * modifiers, {@code redirect}, {@code rewrite}, {@code mirror}); other types (ExtensionRef, CORS,
   * implementation-specific) carry nothing and are reported where they would apply.
   */
  public record Filter(String type, HeaderModifier headers, Redirect redirect, Rewrite rewrite, Mirror mirror,
      Cors cors) {
    /** Any filter but CORS. */
    public Filter(String type, HeaderModifier headers, Redirect redirect, Rewrite rewrite, Mirror mirror) {
      this(type, headers, redirect, rewrite, mirror, null);
    }
  }

  /** Header names as written; {@code set} and {@code add} in file order. */
  public record HeaderModifier(Map<String, String> set, Map<String, String> add, List<String> remove) {
    public HeaderModifier {
      set = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(set));
      add = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(add));
      remove = List.copyOf(remove);
    }
  }

  /**
   * A path change: {@code type} {@code ReplaceFullPath} or {@code ReplacePrefixMatch}, and its value.
   */
  public record PathModifier(String type, String value) {}

  /** Null parts keep the request's; {@code port} 0 when unset; {@code statusCode} 302 by default. */
  public record Redirect(String scheme, String hostname, PathModifier path, int port, int statusCode) {}

  /** Null parts keep the request's. */
  public record Rewrite(String hostname, PathModifier path) {}

  /** {@code percent} 0..100 (100 when unset). */
  public record Mirror(BackendRef backend, double percent) {}
}
