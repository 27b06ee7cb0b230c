package weft.xds.extend;

import com.google.protobuf.Any;
import com.google.protobuf.Duration;
import com.google.protobuf.StringValue;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.core.v3.Address;
import io.envoyproxy.envoy.config.core.v3.AsyncDataSource;
import io.envoyproxy.envoy.config.core.v3.DataSource;
import io.envoyproxy.envoy.config.core.v3.HttpUri;
import io.envoyproxy.envoy.config.core.v3.RemoteDataSource;
import io.envoyproxy.envoy.config.core.v3.SocketAddress;
import io.envoyproxy.envoy.config.core.v3.TransportSocket;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.endpoint.v3.Endpoint;
import io.envoyproxy.envoy.config.endpoint.v3.LbEndpoint;
import io.envoyproxy.envoy.config.endpoint.v3.LocalityLbEndpoints;
import io.envoyproxy.envoy.config.listener.v3.Filter;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.CertificateValidationContext;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.CommonTlsContext;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.SubjectAltNameMatcher;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext;
import io.envoyproxy.envoy.extensions.wasm.v3.EnvironmentVariables;
import io.envoyproxy.envoy.extensions.wasm.v3.FailurePolicy;
import io.envoyproxy.envoy.extensions.wasm.v3.PluginConfig;
import io.envoyproxy.envoy.extensions.wasm.v3.VmConfig;
import io.envoyproxy.envoy.type.matcher.v3.StringMatcher;
import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import weft.model.WasmPlugin;

/**
 * WasmPlugins as Envoy {@code wasm} filters, placed as Istio places them: AUTHN plugins after CUSTOM
 * authorization (ext_authz) and before the authentication filters, AUTHZ plugins after
 * authentication and before the AUDIT, DENY and ALLOW authorization, STATS and then
 * unspecified-phase plugins just before the router; within a phase by priority, higher first.
 *
 * <p>Istio sends the module's URL to its agent, which downloads it (OCI images too) and rewrites the
 * source to a local file. Weft has no such agent for Envoy: an {@code http(s)} module becomes a
 * {@code remote} data source that Envoy fetches itself, through a cluster Weft adds for the module's
 * host ({@link #fetchCluster}); Envoy requires the module's {@code sha256} for a remote source, so a
 * module without it is a finding and no filter. {@code file://} modules are read from the proxy's
 * disk. {@code oci://} modules (and URLs without a scheme) need Istio's agent: a finding, no filter.
 */
final class WasmFilters {
  private WasmFilters() {}

  /** Envoy's V8 runtime, the one Istio names. */
  static final String RUNTIME = "envoy.wasm.runtime.v8";
  static final String HTTP_WASM = "envoy.extensions.filters.http.wasm.v3.Wasm";
  /** How long Envoy may take to fetch a module (Istio's value). */
  private static final Duration FETCH_TIMEOUT = Duration.newBuilder().setSeconds(30).build();
  /** Where Envoy images keep the system's CA bundle: a module server is checked against public roots. */
  static final String SYSTEM_CA_FILE = "/etc/ssl/certs/ca-certificates.crt";
  private static final String FETCH_PREFIX = "weft-wasm-fetch|";

  private static final Set<String> AUTHN = Set.of("envoy.filters.http.jwt_authn", "istio_authn",
      "istio.authn", "envoy.filters.http.oauth2");
  /** The external authorization filter, which with its selecting RBAC runs before AUTHN plugins (Istio's order). */
  private static final String EXT_AUTHZ = "envoy.filters.http.ext_authz";
  private static final String CUSTOM_RBAC = "envoy.filters.http.rbac.CUSTOM";
  private static final String ROUTER = "envoy.filters.http.router";

  /** Whether the plugin can become a filter at all; else why not (a finding). */
  static String unusable(WasmPlugin p) {
    String scheme = p.scheme();
    return switch (scheme) {
      case "oci" -> "module " + p.url() + " is an OCI image, which Istio's agent pulls; Weft serves Envoy without "
          + "that agent, so no filter is sent (publish the module over https with its sha256, or mount it and use "
          + "file://)";
      case "http", "https" -> p.sha256().isEmpty() ? "module " + p.url() + " has no sha256: Envoy fetches a remote "
          + "module only with its digest, so no filter is sent (set spec.sha256)" : null;
      case "file" -> null;
      default -> "module URL scheme " + scheme + " is not supported";
    };
  }

  static boolean network(WasmPlugin p) {
    return p.type().equals("NETWORK");
  }

  /** Istio's traffic selector match for a listener of {@code context} on {@code port} (0: unknown). */
  static boolean selects(WasmPlugin p, PatchContext context, int port) {
    if (p.match().isEmpty()) return true;
    String mode = context == PatchContext.SIDECAR_INBOUND ? "SERVER" : "CLIENT";
    for (WasmPlugin.TrafficSelector t : p.match()) {
      boolean modeOk = t.mode().equals("UNDEFINED") || t.mode().equals("CLIENT_AND_SERVER") || t.mode().equals(mode);
      boolean portOk = t.ports().isEmpty() || t.ports().contains(port);
      if (modeOk && portOk) return true;
    }
    return false;
  }

  /** HTTP filters with the plugins inserted at their phases; {@code plugins} usable, selected, in priority order. */
  static List<HttpFilter> insertHttp(List<HttpFilter> filters, List<WasmPlugin> plugins) {
    if (plugins.isEmpty()) return filters;
    int afterCustom = 0;
    for (int i = 0; i < filters.size(); i++) if (filters.get(i).getName().equals(EXT_AUTHZ)) afterCustom = i + 1;
    int firstAuthn = first(filters, AUTHN);
    int firstAuthz = -1;
    for (int i = 0; i < filters.size() && firstAuthz < 0; i++) {
      String name = filters.get(i).getName();
      // The AUDIT, DENY and ALLOW RBAC filters (envoy.filters.http.rbac, .AUDIT, .DENY); not CUSTOM's.
      if (name.startsWith("envoy.filters.http.rbac") && !name.equals(CUSTOM_RBAC)) firstAuthz = i;
    }
    int lastAuthn = last(filters, AUTHN);
    int router = -1;
    for (int i = 0; i < filters.size(); i++) if (filters.get(i).getName().equals(ROUTER)) router = i;
    if (router < 0) router = filters.size();
    int authnAt = Math.max(afterCustom, firstAuthn >= 0 ? firstAuthn : firstAuthz >= 0 ? firstAuthz : 0);
    int authzAt = firstAuthz >= 0 ? firstAuthz : lastAuthn >= 0 ? lastAuthn + 1 : authnAt;
    authnAt = Math.min(authnAt, router);
    authzAt = Math.min(Math.max(authzAt, authnAt), router);
    List<HttpFilter> out = new ArrayList<>();
    for (int i = 0; i <= filters.size(); i++) {
      if (i == authnAt) addPhase(out, plugins, "AUTHN");
      if (i == authzAt) addPhase(out, plugins, "AUTHZ");
      if (i == router) {
        addPhase(out, plugins, "STATS");
        addPhase(out, plugins, "UNSPECIFIED_PHASE");
      }
      if (i < filters.size()) out.add(filters.get(i));
    }
    return out;
  }

  private static void addPhase(List<HttpFilter> out, List<WasmPlugin> plugins, String phase) {
    for (WasmPlugin p : plugins) {
      if (!p.phase().equals(phase)) continue;
      out.add(HttpFilter.newBuilder().setName(resourceName(p))
          .setTypedConfig(Any.pack(io.envoyproxy.envoy.extensions.filters.http.wasm.v3.Wasm.newBuilder()
              .setConfig(pluginConfig(p)).build()))
          .build());
    }
  }

  /** Network filters with the NETWORK plugins inserted: AUTHN and AUTHZ before RBAC, the others before the last filter. */
  static List<Filter> insertNetwork(List<Filter> filters, List<WasmPlugin> plugins) {
    if (plugins.isEmpty() || filters.isEmpty()) return filters;
    int rbac = indexOf(filters.stream().map(Filter::getName).toList(), Set.of("envoy.filters.network.rbac"));
    int terminal = filters.size() - 1;
    int securityAt = rbac >= 0 ? rbac : terminal;
    List<Filter> out = new ArrayList<>();
    for (int i = 0; i < filters.size(); i++) {
      if (i == securityAt) {
        addNetwork(out, plugins, "AUTHN");
        addNetwork(out, plugins, "AUTHZ");
      }
      if (i == terminal) {
        addNetwork(out, plugins, "STATS");
        addNetwork(out, plugins, "UNSPECIFIED_PHASE");
      }
      out.add(filters.get(i));
    }
    return out;
  }

  private static void addNetwork(List<Filter> out, List<WasmPlugin> plugins, String phase) {
    for (WasmPlugin p : plugins) {
      if (!p.phase().equals(phase)) continue;
      out.add(Filter.newBuilder().setName(resourceName(p))
          .setTypedConfig(Any.pack(io.envoyproxy.envoy.extensions.filters.network.wasm.v3.Wasm.newBuilder()
              .setConfig(pluginConfig(p)).build()))
          .build());
    }
  }

  /** Istio's name for a plugin's filter and config: {@code NAMESPACE.NAME}. */
  static String resourceName(WasmPlugin p) {
    return p.id().namespace() + "." + p.id().name();
  }

  static PluginConfig pluginConfig(WasmPlugin p) {
    PluginConfig.Builder b = PluginConfig.newBuilder().setName(resourceName(p)).setRootId(p.pluginName());
    if (p.pluginConfigJson() != null && !p.pluginConfigJson().equals("{}")) {
      b.setConfiguration(Any.pack(StringValue.of(p.pluginConfigJson())));
    }
    VmConfig.Builder vm = VmConfig.newBuilder().setRuntime(RUNTIME).setCode(source(p));
    if (!p.vmEnv().isEmpty()) {
      vm.setEnvironmentVariables(EnvironmentVariables.newBuilder().putAllKeyValues(p.vmEnv()));
    }
    b.setVmConfig(vm);
    b.setFailurePolicy(switch (p.failStrategy()) {
      case "FAIL_OPEN" -> FailurePolicy.FAIL_OPEN;
      case "FAIL_RELOAD" -> FailurePolicy.FAIL_RELOAD;
      default -> FailurePolicy.FAIL_CLOSED;
    });
    return b.build();
  }

  private static AsyncDataSource source(WasmPlugin p) {
    if (p.scheme().equals("file")) {
      return AsyncDataSource.newBuilder().setLocal(DataSource.newBuilder()
          .setFilename(p.url().substring("file://".length()))).build();
    }
    return AsyncDataSource.newBuilder().setRemote(RemoteDataSource.newBuilder()
        .setHttpUri(HttpUri.newBuilder().setUri(p.url()).setCluster(fetchClusterName(p)).setTimeout(FETCH_TIMEOUT))
        .setSha256(p.sha256())).build();
  }

  /** {@code weft-wasm-fetch|SCHEME|HOST|PORT}: one cluster per module server, shared by its modules. */
  static String fetchClusterName(WasmPlugin p) {
    URI uri = URI.create(p.url());
    return FETCH_PREFIX + uri.getScheme().toLowerCase(java.util.Locale.ROOT) + "|" + uri.getHost() + "|" + port(uri);
  }

  private static int port(URI uri) {
    if (uri.getPort() > 0) return uri.getPort();
    return uri.getScheme().equalsIgnoreCase("https") ? 443 : 80;
  }

  /**
   * The cluster Envoy fetches a remote module through: the URL's host by DNS, over TLS checked
   * against the system's public roots and the host name for https.
   */
  static Cluster fetchCluster(WasmPlugin p) {
    URI uri = URI.create(p.url());
    String host = uri.getHost();
    Cluster.Builder c = Cluster.newBuilder().setName(fetchClusterName(p))
        .setType(Cluster.DiscoveryType.STRICT_DNS)
        .setConnectTimeout(Duration.newBuilder().setSeconds(10))
        .setLoadAssignment(ClusterLoadAssignment.newBuilder().setClusterName(fetchClusterName(p))
            .addEndpoints(LocalityLbEndpoints.newBuilder().addLbEndpoints(LbEndpoint.newBuilder()
                .setEndpoint(Endpoint.newBuilder().setAddress(Address.newBuilder().setSocketAddress(
                    SocketAddress.newBuilder().setAddress(host).setPortValue(port(uri))))))));
    if (uri.getScheme().equalsIgnoreCase("https")) {
      UpstreamTlsContext tls = UpstreamTlsContext.newBuilder().setSni(host)
          .setCommonTlsContext(CommonTlsContext.newBuilder().setValidationContext(CertificateValidationContext
              .newBuilder().setTrustedCa(DataSource.newBuilder().setFilename(SYSTEM_CA_FILE))
              .addMatchTypedSubjectAltNames(SubjectAltNameMatcher.newBuilder()
                  .setSanType(SubjectAltNameMatcher.SanType.DNS)
                  .setMatcher(StringMatcher.newBuilder().setExact(host)))))
          .build();
      c.setTransportSocket(TransportSocket.newBuilder().setName("envoy.transport_sockets.tls")
          .setTypedConfig(Any.pack(tls)));
    }
    return c.build();
  }

  private static int first(List<HttpFilter> filters, Set<String> names) {
    return indexOf(filters.stream().map(HttpFilter::getName).toList(), names);
  }

  private static int indexOf(List<String> names, Set<String> set) {
    int i = 0;
    for (String n : names) {
      if (set.contains(n)) return i;
      i++;
    }
    return -1;
  }

  private static int last(List<HttpFilter> filters, Set<String> names) {
    int at = -1;
    for (int i = 0; i < filters.size(); i++) if (names.contains(filters.get(i).getName())) at = i;
    return at;
  }
}
