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

  public record HttpRoute(String name, List<HttpMatch> match, List<RouteDestination> route, Duration timeout,
      Retry retries, Fault fault, Rewrite rewrite) {
    public HttpRoute {
      match = List.copyOf(match);
      route = List.copyOf(route);
    }
  }

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

  /** {@code weight} is 0 when unset (Istio: a lone destination then takes all traffic). */
  public record RouteDestination(Destination destination, int weight) {}

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
