package weft.model;

import java.time.Duration;
import java.util.List;
import java.util.Map;

/** A {@code networking.istio.io} VirtualService. Unset optional values are null or empty. */
public record VirtualService(ResourceId id, List<String> hosts, List<String> gateways, List<HttpRoute> http,
    List<TlsRoute> tls, List<TcpRoute> tcp, List<String> exportTo) implements Resource {
  public VirtualService {
    hosts = List.copyOf(hosts);
    gateways = List.copyOf(gateways);
    http = List.copyOf(http);
    tls = List.copyOf(tls);
    tcp = List.copyOf(tcp);
    exportTo = List.copyOf(exportTo);
  }

  /**
   * One HTTP route. Exactly one of {@code route} (non-empty), {@code redirect}, {@code directResponse}
   * or {@code delegate} says what happens to a matching request; the others are empty or null.
   * {@code headers}, {@code cors} and {@code mirrors} are null or empty when unset.
   */
  public record HttpRoute(String name, List<HttpMatch> match, List<RouteDestination> route, Duration timeout,
      Retry retries, Fault fault, Rewrite rewrite, Redirect redirect, DirectResponse directResponse,
      Delegate delegate, Headers headers, CorsPolicy cors, List<Mirror> mirrors) {
    public HttpRoute {
      match = List.copyOf(match);
      route = List.copyOf(route);
      mirrors = List.copyOf(mirrors);
    }

    /** A forwarding route with none of the optional actions (tests and simple callers). */
    public HttpRoute(String name, List<HttpMatch> match, List<RouteDestination> route, Duration timeout,
        Retry retries, Fault fault, Rewrite rewrite) {
      this(name, match, route, timeout, retries, fault, rewrite, null, null, null, null, null, List.of());
    }

    /** The same route with other matches and name (a delegate's route merged under its root's match). */
    public HttpRoute withMatches(String newName, List<HttpMatch> newMatch) {
      return new HttpRoute(newName, newMatch, route, timeout, retries, fault, rewrite, redirect, directResponse,
          delegate, headers, cors, mirrors);
    }
  }

  /**
   * An HTTP redirect. Null fields keep the request's value. {@code port} is 0 unless a fixed port is
   * given; {@code derivePort} is {@code FROM_PROTOCOL_DEFAULT} or {@code FROM_REQUEST_PORT}, or null.
   * {@code code} is the 3xx status (301 when unset, as Istio).
   */
  public record Redirect(String uri, String authority, int port, String derivePort, String scheme, int code) {}

  /** A response sent without any upstream; {@code body} is null when unset. */
  public record DirectResponse(int status, byte[] body) {
    public DirectResponse {
      body = body == null ? null : body.clone();
    }

    @Override
    public byte[] body() {
      return body == null ? null : body.clone();
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof DirectResponse d && d.status == status && java.util.Arrays.equals(d.body, body);
    }

    @Override
    public int hashCode() {
      return 31 * status + java.util.Arrays.hashCode(body);
    }

    @Override
    public String toString() {
      return "DirectResponse[status=" + status + ", body=" + (body == null ? "none" : body.length + " bytes") + "]";
    }
  }

  /** The host-less VirtualService whose HTTP routes take the place of this route ({@code namespace} resolved). */
  public record Delegate(String name, String namespace) {}

  /** Header changes for requests and responses; either side may be null. */
  public record Headers(HeaderOperations request, HeaderOperations response) {}

  /** {@code set} overwrites, {@code add} appends, {@code remove} deletes; names as written, in file order. */
  public record HeaderOperations(Map<String, String> set, Map<String, String> add, List<String> remove) {
    public HeaderOperations {
      set = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(set));
      add = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(add));
      remove = List.copyOf(remove);
    }

    public boolean isEmpty() {
      return set.isEmpty() && add.isEmpty() && remove.isEmpty();
    }
  }

  /**
   * Istio's CorsPolicy. {@code allowCredentials} is null when unset; {@code unmatchedPreflights} is
   * {@code FORWARD} or {@code IGNORE}, or null (Istio's default, FORWARD).
   */
  public record CorsPolicy(List<StringMatch> allowOrigins, List<String> allowMethods, List<String> allowHeaders,
      List<String> exposeHeaders, Duration maxAge, Boolean allowCredentials, String unmatchedPreflights) {
    public CorsPolicy {
      allowOrigins = List.copyOf(allowOrigins);
      allowMethods = List.copyOf(allowMethods);
      allowHeaders = List.copyOf(allowHeaders);
      exposeHeaders = List.copyOf(exposeHeaders);
    }
  }

  /** A copy of each request sent to {@code destination}; {@code percentage} 0–100, 100 when unset (Istio). */
  public record Mirror(Destination destination, double percentage) {}

  /**
   * One match condition; all set fields must hold. {@code headers} maps a lower-case header name
   * to its match; {@code withoutHeaders} must not match. {@code port} is 0 when unset.
   * {@code gateways} (as written) limits the match to those gateways ({@code mesh}: sidecars and
   * proxyless clients); empty means every gateway the VirtualService is bound to.
   */
  public record HttpMatch(String name, StringMatch uri, StringMatch method, StringMatch authority,
      Map<String, StringMatch> headers, Map<String, StringMatch> withoutHeaders,
      Map<String, StringMatch> queryParams, int port, Map<String, String> sourceLabels, String sourceNamespace,
      boolean ignoreUriCase, List<String> gateways) {
    public HttpMatch {
      headers = Map.copyOf(headers);
      withoutHeaders = Map.copyOf(withoutHeaders);
      queryParams = Map.copyOf(queryParams);
      sourceLabels = Map.copyOf(sourceLabels);
      gateways = gateways == null ? List.of() : List.copyOf(gateways);
    }

    /** A match for every gateway the VirtualService is bound to. */
    public HttpMatch(String name, StringMatch uri, StringMatch method, StringMatch authority,
        Map<String, StringMatch> headers, Map<String, StringMatch> withoutHeaders,
        Map<String, StringMatch> queryParams, int port, Map<String, String> sourceLabels, String sourceNamespace,
        boolean ignoreUriCase) {
      this(name, uri, method, authority, headers, withoutHeaders, queryParams, port, sourceLabels, sourceNamespace,
          ignoreUriCase, List.of());
    }
  }

  /**
   * {@code weight} is 0 when unset (Istio: a lone destination then takes all traffic); {@code headers}
   * (HTTP routes only) changes requests and responses sent to this destination, or is null.
   */
  public record RouteDestination(Destination destination, int weight, Headers headers) {
    public RouteDestination(Destination destination, int weight) {
      this(destination, weight, null);
    }
  }

  /** {@code port} is 0 when unset; {@code subset} is null when unset. */
  public record Destination(String host, String subset, int port) {}

  /** {@code attempts} null when unset; {@code retryOn} is Istio's comma list, or null. */
  public record Retry(Integer attempts, Duration perTryTimeout, String retryOn) {}

  /** Either part may be null. Percentages are 0–100; null means 100 as in Istio. */
  public record Fault(Delay delay, Abort abort) {
    public record Delay(Duration fixedDelay, Double percentage) {}

    /** Exactly one of {@code httpStatus} (non-zero) or {@code grpcStatus} (non-null) is set. */
    public record Abort(int httpStatus, String grpcStatus, Double percentage) {}
  }

  public record Rewrite(String uri, String authority) {}

  public record TcpRoute(List<TcpMatch> match, List<RouteDestination> route) {
    public TcpRoute {
      match = List.copyOf(match);
      route = List.copyOf(route);
    }
  }

  /** {@code gateways} as in {@link HttpMatch}. */
  public record TcpMatch(int port, List<String> destinationSubnets, Map<String, String> sourceLabels,
      List<String> gateways) {
    public TcpMatch {
      destinationSubnets = List.copyOf(destinationSubnets);
      sourceLabels = Map.copyOf(sourceLabels);
      gateways = gateways == null ? List.of() : List.copyOf(gateways);
    }

    public TcpMatch(int port, List<String> destinationSubnets, Map<String, String> sourceLabels) {
      this(port, destinationSubnets, sourceLabels, List.of());
    }
  }

  /** A route for TLS that is passed through, chosen by SNI (and port) before anything is decrypted. */
  public record TlsRoute(List<TlsMatch> match, List<RouteDestination> route) {
    public TlsRoute {
      match = List.copyOf(match);
      route = List.copyOf(route);
    }
  }

  /**
   * One TLS match; all set fields must hold. {@code sniHosts} is never empty ({@code *} matches any
   * name); {@code port} is 0 when unset; {@code gateways} empty means every gateway the
   * VirtualService is bound to.
   */
  public record TlsMatch(List<String> sniHosts, List<String> destinationSubnets, int port,
      Map<String, String> sourceLabels, List<String> gateways) {
    public TlsMatch {
      sniHosts = List.copyOf(sniHosts);
      destinationSubnets = List.copyOf(destinationSubnets);
      sourceLabels = Map.copyOf(sourceLabels);
      gateways = List.copyOf(gateways);
    }
  }
}
