package weft.model;

import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * A MeshConfig {@code extensionProviders} entry of kind {@code envoyExtAuthzHttp} or
 * {@code envoyExtAuthzGrpc}: the external authorization service that AuthorizationPolicies with
 * action CUSTOM name. Header lists are as written ({@code *} wildcards kept); {@code body} is null
 * when the request body is not sent.
 *
 * @param service {@code [NAMESPACE/]HOSTNAME} of the authorization service
 * @param statusOnError the HTTP status returned when the service cannot be reached (Istio's
 *     default 403)
 */
public record ExtAuthzProvider(String name, boolean grpc, String service, int port, Duration timeout, boolean failOpen,
    int statusOnError, String pathPrefix, List<String> includeRequestHeadersInCheck,
    Map<String, String> includeAdditionalHeadersInCheck, List<String> headersToUpstreamOnAllow,
    List<String> headersToDownstreamOnDeny, List<String> headersToDownstreamOnAllow, Body body) {
  /** Istio's defaults. */
  public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(600);
  public static final int DEFAULT_STATUS_ON_ERROR = 403;

  public ExtAuthzProvider {
    includeRequestHeadersInCheck = List.copyOf(includeRequestHeadersInCheck);
    includeAdditionalHeadersInCheck = java.util.Collections.unmodifiableMap(
        new java.util.LinkedHashMap<>(includeAdditionalHeadersInCheck));
    headersToUpstreamOnAllow = List.copyOf(headersToUpstreamOnAllow);
    headersToDownstreamOnDeny = List.copyOf(headersToDownstreamOnDeny);
    headersToDownstreamOnAllow = List.copyOf(headersToDownstreamOnAllow);
  }

  /** {@code includeRequestBodyInCheck}. */
  public record Body(int maxRequestBytes, boolean allowPartialMessage, boolean packAsBytes) {}

  /** The service's host name, without the namespace part. */
  public String host() {
    int slash = service.indexOf('/');
    return slash < 0 ? service : service.substring(slash + 1);
  }
}
