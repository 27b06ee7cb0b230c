package weft.xds.security;

import com.google.protobuf.Any;
import com.google.protobuf.util.Durations;
import io.envoyproxy.envoy.config.core.v3.ApiVersion;
import io.envoyproxy.envoy.config.core.v3.GrpcService;
import io.envoyproxy.envoy.config.core.v3.HeaderValue;
import io.envoyproxy.envoy.config.core.v3.HttpUri;
import io.envoyproxy.envoy.config.listener.v3.Filter;
import io.envoyproxy.envoy.extensions.filters.http.ext_authz.v3.AuthorizationRequest;
import io.envoyproxy.envoy.extensions.filters.http.ext_authz.v3.AuthorizationResponse;
import io.envoyproxy.envoy.extensions.filters.http.ext_authz.v3.BufferSettings;
import io.envoyproxy.envoy.extensions.filters.http.ext_authz.v3.HttpService;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter;
import io.envoyproxy.envoy.type.matcher.v3.ListStringMatcher;
import io.envoyproxy.envoy.type.matcher.v3.MetadataMatcher;
import io.envoyproxy.envoy.type.matcher.v3.StringMatcher;
import io.envoyproxy.envoy.type.matcher.v3.ValueMatcher;
import io.envoyproxy.envoy.type.v3.HttpStatus;
import java.util.List;
import java.util.Map;
import weft.model.AuthorizationPolicy;
import weft.model.ExtAuthzProvider;
import weft.registry.ServiceView;
import weft.xds.view.ProxyView;

/**
 * AuthorizationPolicy action CUSTOM the way Istio builds it: the CUSTOM rules become the shadow rules
 * of an RBAC filter (policy names prefixed {@code istio-ext-authz}, stat prefix
 * {@code istio_ext_authz_}), and the {@code ext_authz} filter after it is enabled only when that
 * shadow engine matched (its {@code filter_enabled_metadata}), so the provider is asked about
 * exactly the requests the rules select. The provider comes from MeshConfig
 * {@code extensionProviders}: {@code envoyExtAuthzHttp} as an HTTP service, {@code envoyExtAuthzGrpc}
 * as Envoy's gRPC client, each through the provider service's outbound cluster.
 *
 * <p>One provider per workload, as in Istio. When the provider cannot be used (not declared, its
 * service unknown, two providers, an HTTP provider on a TCP chain, a proxyless server), the rules
 * fail closed: what they select is denied, and the reason is recorded.
 */
public final class ExtAuthz {
  public static final String HTTP_FILTER = "envoy.filters.http.ext_authz";
  public static final String NETWORK_FILTER = "envoy.filters.network.ext_authz";
  /** The RBAC filters that select what the provider is asked about (distinct names, one per role). */
  public static final String HTTP_RBAC_FILTER = "envoy.filters.http.rbac.CUSTOM";
  public static final String NETWORK_RBAC_FILTER = "envoy.filters.network.rbac.CUSTOM";
  /** Istio's names: policy name prefix and the shadow rules' stat prefix, whose metadata key enables ext_authz. */
  static final String POLICY_PREFIX = "istio-ext-authz";
  static final String SHADOW_PREFIX = "istio_ext_authz_";
  static final String SHADOW_EFFECTIVE_POLICY_ID = SHADOW_PREFIX + "shadow_effective_policy_id";
  /** The metadata namespaces Envoy's RBAC filters write (their well-known names, whatever the config names them). */
  private static final String HTTP_RBAC_METADATA = "envoy.filters.http.rbac";
  private static final String NETWORK_RBAC_METADATA = "envoy.filters.network.rbac";

  private ExtAuthz() {}

  /** A usable provider and the cluster that reaches it. */
  public record Target(ExtAuthzProvider provider, String cluster) {}

  /**
   * The provider for a workload's CUSTOM policies on {@code target}, or null with the reason given to
   * {@code failed} (the caller then fails closed).
   */
  static Target resolve(List<AuthorizationPolicy> custom, ProxyView view, Rbac.Target target,
      java.util.function.Consumer<String> failed) {
    if (custom.isEmpty()) return null;
    if (target == Rbac.Target.PROXYLESS) {
      failed.accept("grpc-java has no ext_authz filter, so a proxyless server cannot ask the provider; the requests "
          + "the rules select are denied");
      return null;
    }
    String name = custom.get(0).provider();
    for (AuthorizationPolicy p : custom) {
      if (!p.provider().equals(name)) {
        failed.accept("CUSTOM policies for this workload name two providers (" + name + " and " + p.provider()
            + "); Istio allows one per workload, so the requests they select are denied");
        return null;
      }
    }
    ExtAuthzProvider provider = view.snapshot().meshConfig().extAuthzProvider(name);
    if (provider == null) {
      failed.accept("provider " + name + " is not declared in MeshConfig extensionProviders (envoyExtAuthzHttp or "
          + "envoyExtAuthzGrpc); the requests the rules select are denied");
      return null;
    }
    if (target == Rbac.Target.TCP && !provider.grpc()) {
      failed.accept("provider " + name + " is an HTTP service, which cannot check TCP traffic; the TCP connections "
          + "the rules select are denied (use an envoyExtAuthzGrpc provider for TCP ports)");
      return null;
    }
    ServiceView service = view.snapshot().service(provider.host());
    if (service == null || service.service().ports().stream().noneMatch(p -> p.number() == provider.port())) {
      failed.accept("provider " + name + "'s service " + provider.host() + ":" + provider.port() + " is not in the "
          + "registry; the requests the rules select are denied until it is");
      return null;
    }
    return new Target(provider, "outbound|" + provider.port() + "||" + provider.host());
  }

  /** Names a CUSTOM rule's policy as Istio does, so its debug tooling recognizes it. */
  static String policyName(String name) {
    return POLICY_PREFIX + "-" + name;
  }

  static HttpFilter httpFilter(Target t) {
    ExtAuthzProvider p = t.provider();
    io.envoyproxy.envoy.extensions.filters.http.ext_authz.v3.ExtAuthz.Builder b =
        io.envoyproxy.envoy.extensions.filters.http.ext_authz.v3.ExtAuthz.newBuilder()
            .setTransportApiVersion(ApiVersion.V3)
            .setFailureModeAllow(p.failOpen())
            .setStatusOnError(HttpStatus.newBuilder().setCodeValue(p.statusOnError()))
            .setFilterEnabledMetadata(enabledBy(HTTP_RBAC_METADATA));
    if (p.grpc()) {
      b.setGrpcService(grpcService(t));
    } else {
      HttpService.Builder http = HttpService.newBuilder()
          .setServerUri(HttpUri.newBuilder().setUri("http://" + p.host()).setCluster(t.cluster())
              .setTimeout(Durations.fromNanos(p.timeout().toNanos())));
      if (p.pathPrefix() != null) http.setPathPrefix(p.pathPrefix());
      AuthorizationRequest.Builder request = AuthorizationRequest.newBuilder();
      for (Map.Entry<String, String> h : p.includeAdditionalHeadersInCheck().entrySet()) {
        request.addHeadersToAdd(HeaderValue.newBuilder().setKey(h.getKey()).setValue(h.getValue()));
      }
      http.setAuthorizationRequest(request);
      AuthorizationResponse.Builder response = AuthorizationResponse.newBuilder();
      if (!p.headersToUpstreamOnAllow().isEmpty()) {
        response.setAllowedUpstreamHeaders(headers(p.headersToUpstreamOnAllow()));
      }
      if (!p.headersToDownstreamOnDeny().isEmpty()) {
        response.setAllowedClientHeaders(headers(p.headersToDownstreamOnDeny()));
      }
      if (!p.headersToDownstreamOnAllow().isEmpty()) {
        response.setAllowedClientHeadersOnSuccess(headers(p.headersToDownstreamOnAllow()));
      }
      http.setAuthorizationResponse(response);
      b.setHttpService(http);
      if (!p.includeRequestHeadersInCheck().isEmpty()) b.setAllowedHeaders(headers(p.includeRequestHeadersInCheck()));
    }
    if (p.body() != null) {
      b.setWithRequestBody(BufferSettings.newBuilder().setMaxRequestBytes(p.body().maxRequestBytes())
          .setAllowPartialMessage(p.body().allowPartialMessage()).setPackAsBytes(p.body().packAsBytes()));
    }
    return HttpFilter.newBuilder().setName(HTTP_FILTER).setTypedConfig(Any.pack(b.build())).build();
  }

  static Filter networkFilter(Target t) {
    io.envoyproxy.envoy.extensions.filters.network.ext_authz.v3.ExtAuthz config =
        io.envoyproxy.envoy.extensions.filters.network.ext_authz.v3.ExtAuthz.newBuilder()
            .setStatPrefix(Rbac.TCP_STAT_PREFIX)
            .setGrpcService(grpcService(t))
            .setFailureModeAllow(t.provider().failOpen())
            .setTransportApiVersion(ApiVersion.V3)
            .setFilterEnabledMetadata(enabledBy(NETWORK_RBAC_METADATA))
            .build();
    return Filter.newBuilder().setName(NETWORK_FILTER).setTypedConfig(Any.pack(config)).build();
  }

  private static GrpcService grpcService(Target t) {
    return GrpcService.newBuilder()
        .setEnvoyGrpc(GrpcService.EnvoyGrpc.newBuilder().setClusterName(t.cluster()).setAuthority(t.provider().host()))
        .setTimeout(Durations.fromNanos(t.provider().timeout().toNanos()))
        .build();
  }

  /** Enabled when the CUSTOM shadow rules matched: their effective policy id starts with Istio's prefix. */
  private static MetadataMatcher enabledBy(String rbacMetadata) {
    return MetadataMatcher.newBuilder().setFilter(rbacMetadata)
        .addPath(MetadataMatcher.PathSegment.newBuilder().setKey(SHADOW_EFFECTIVE_POLICY_ID))
        .setValue(ValueMatcher.newBuilder().setStringMatch(StringMatcher.newBuilder().setPrefix(POLICY_PREFIX)))
        .build();
  }

  /** Istio's header patterns: {@code x-*} a prefix, {@code *-id} a suffix, else exact; case-insensitive. */
  static ListStringMatcher headers(List<String> names) {
    ListStringMatcher.Builder b = ListStringMatcher.newBuilder();
    for (String h : names) {
      StringMatcher.Builder m = StringMatcher.newBuilder().setIgnoreCase(true);
      if (h.equals("*")) {
        m.setSafeRegex(io.envoyproxy.envoy.type.matcher.v3.RegexMatcher.newBuilder().setRegex(".*"));
        m.clearIgnoreCase();
      } else if (h.endsWith("*")) {
        m.setPrefix(h.substring(0, h.length() - 1));
      } else if (h.startsWith("*")) {
        m.setSuffix(h.substring(1));
      } else {
        m.setExact(h);
      }
      b.addPatterns(m);
    }
    return b.build();
  }
}
